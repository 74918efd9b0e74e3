// The attributes as JSON (schemas/dicom-attributes.schema.json): keywords as keys, values as JSON
// strings and numbers, sequences as arrays of objects, binary values as their VR and length, text
// in UTF-8 from the Specific Character Set in force.
#include "gw_dicom_internal.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcvrat.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

namespace gw {

namespace {

void appendEscaped(std::string &out, const char *text, size_t length) {
    out.push_back('"');
    const auto *bytes = reinterpret_cast<const unsigned char *>(text);
    size_t i = 0;
    while (i < length) {
        unsigned char byte = bytes[i];
        if (byte == '"' || byte == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(byte));
            i++;
        } else if (byte < 0x20) {
            char escape[8];
            std::snprintf(escape, sizeof escape, "\\u%04x", byte);
            out += escape;
            i++;
        } else if (byte < 0x80) {
            out.push_back(static_cast<char>(byte));
            i++;
        } else {
            // Valid UTF-8 is copied; any other byte is read as ISO 8859-1 (DICOM's most common
            // non-ASCII character set) and written as UTF-8, so the JSON is always valid.
            size_t need = (byte & 0xE0) == 0xC0 ? 1 : (byte & 0xF0) == 0xE0 ? 2 : (byte & 0xF8) == 0xF0 ? 3 : 99;
            bool valid = need <= 3 && i + need < length;
            for (size_t k = 1; valid && k <= need; k++) {
                if ((bytes[i + k] & 0xC0) != 0x80) valid = false;
            }
            if (valid && byte >= 0xC2) {
                out.append(text + i, need + 1);
                i += need + 1;
            } else {
                out.push_back(static_cast<char>(0xC0 | (byte >> 6)));
                out.push_back(static_cast<char>(0x80 | (byte & 0x3F)));
                i++;
            }
        }
    }
    out.push_back('"');
}

}  // namespace

void appendString(std::string &out, const std::string &text) { appendEscaped(out, text.data(), text.size()); }

namespace {

void appendDouble(std::string &out, double value) {
    if (!(value == value) || value > 1.7e308 || value < -1.7e308) {
        out += "null";
        return;
    }
    char text[40];
    std::snprintf(text, sizeof text, "%.17g", value);
    out += text;
}

/// The JSON key of an attribute: its keyword, or "GGGG,EEEE" for private, unknown and
/// repeating-group (50xx, 60xx) attributes, whose keywords would collide.
std::string keyFor(const DcmTagKey &key) {
    unsigned group = key.getGroup();
    bool repeating = (group & 0xFF00) == 0x5000 || (group & 0xFF00) == 0x6000;
    if (!(group & 1) && !repeating) {
        DcmTag tag(key);
        const char *name = tag.getTagName();
        if (name && std::strcmp(name, DcmTag_ERROR_TagName) != 0 && std::strcmp(name, "GenericGroupLength") != 0) {
            // DCMTK marks retired attributes "RETIRED_"; the standard's keyword has no prefix.
            if (std::strncmp(name, "RETIRED_", 8) == 0) name += 8;
            return name;
        }
    }
    return hex4(group) + "," + hex4(key.getElement());
}

void appendItem(std::string &out, DcmItem *item, int depth, const Charset &parent, const std::string &path);

/// Appends a sequence as an array of objects.
void appendSequence(std::string &out, DcmElement *element, int depth, const Charset &charset,
                    const std::string &path) {
    auto *sequence = static_cast<DcmSequenceOfItems *>(element);
    std::string inner = path + describeTag(element->getTag()) + " > ";
    out.push_back('[');
    for (unsigned long i = 0; i < sequence->card(); i++) {
        if (i) out.push_back(',');
        appendItem(out, sequence->getItem(i), depth + 1, charset, inner);
    }
    out.push_back(']');
}

/// Appends a FL value: null when it is not a finite number.
void appendFloat(std::string &out, Float32 value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.9g", static_cast<double>(value));
    if (value != value || value > 3.4e38f || value < -3.4e38f)
        out += "null";
    else
        out += text;
}

/// Appends a text value; DS and IS as a number when the text is one, otherwise as the text.
void appendText(std::string &out, DcmEVR vr, const OFString &text) {
    if (vr == EVR_DS || vr == EVR_IS) {
        const char *start = text.c_str();
        char *end = nullptr;
        double number = std::strtod(start, &end);
        if (end != start && *end == 0 && text.size() < 40 && number == number && number < 1e300 &&
            number > -1e300) {
            appendDouble(out, number);
            return;
        }
    }
    appendString(out, std::string(text.c_str(), text.size()));
}

/// Appends integer value `i` of an element, read by `get`; returns the read status.
template <typename Integer>
OFCondition appendInteger(std::string &out, DcmElement *element, unsigned long i,
                          OFCondition (DcmElement::*get)(Integer &, const unsigned long)) {
    Integer value = 0;
    OFCondition status = (element->*get)(value, i);
    if (status.good()) out += std::to_string(value);
    return status;
}

/// Appends value `i` of an element (the whole text when `single`); returns the read status.
OFCondition appendOneValue(std::string &out, DcmElement *element, DcmEVR vr, unsigned long i, bool single) {
    OFCondition status = EC_Normal;
    switch (vr) {
    case EVR_US:
        return appendInteger<Uint16>(out, element, i, &DcmElement::getUint16);
    case EVR_SS:
        return appendInteger<Sint16>(out, element, i, &DcmElement::getSint16);
    case EVR_UL:
        return appendInteger<Uint32>(out, element, i, &DcmElement::getUint32);
    case EVR_SL:
        return appendInteger<Sint32>(out, element, i, &DcmElement::getSint32);
    case EVR_FL: {
        Float32 value = 0;
        status = element->getFloat32(value, i);
        if (status.good()) appendFloat(out, value);
        break;
    }
    case EVR_FD: {
        Float64 value = 0;
        status = element->getFloat64(value, i);
        if (status.good()) appendDouble(out, value);
        break;
    }
    case EVR_AT: {
        DcmTagKey tag;
        status = static_cast<DcmAttributeTag *>(element)->getTagVal(tag, i);
        if (status.good()) appendString(out, "(" + hex4(tag.getGroup()) + "," + hex4(tag.getElement()) + ")");
        break;
    }
    default: {
        OFString text;
        status = single ? element->getOFStringArray(text, OFTrue) : element->getOFString(text, i, OFTrue);
        if (status.good()) appendText(out, vr, text);
    }
    }
    return status;
}

void appendValue(std::string &out, DcmElement *element, int depth, const Charset &charset, const std::string &path) {
    DcmEVR vr = element->ident();
    if (vr == EVR_SQ) {
        appendSequence(out, element, depth, charset, path);
        return;
    }
    if (needsConversion(element, charset)) {
        std::unique_ptr<DcmElement> copy = convertedCopy(element, charset, path);
        appendValue(out, copy.get(), depth, Charset(), path);
        return;
    }
    if (element->getLength() == 0) {
        out += "null";
        return;
    }
    unsigned long count = element->getVM();
    bool numeric = vr == EVR_US || vr == EVR_SS || vr == EVR_UL || vr == EVR_SL || vr == EVR_FL || vr == EVR_FD;
    if (isBinaryVR(vr) || (numeric && count > 256)) {
        out += "{\"length\":" + std::to_string(element->getLength()) + ",\"vr\":";
        appendString(out, DcmVR(vr).getVRName());
        out.push_back('}');
        return;
    }
    bool single = vr == EVR_LT || vr == EVR_ST || vr == EVR_UT || vr == EVR_UR;
    if (single) count = 1;
    if (count > 1) out.push_back('[');
    for (unsigned long i = 0; i < count; i++) {
        if (i) out.push_back(',');
        if (appendOneValue(out, element, vr, i, single).bad()) out += "null";
    }
    if (count > 1) out.push_back(']');
}

void appendItem(std::string &out, DcmItem *item, int depth, const Charset &parent, const std::string &path) {
    out.push_back('{');
    if (item && depth < 64) {
        Charset charset = charsetOf(item, parent, path);
        bool first = true;
        std::set<std::string> keys;
        for (unsigned long i = 0; i < item->card(); i++) {
            DcmElement *element = item->getElement(i);
            if (!element) continue;
            DcmTagKey key = element->getTag();
            if (key.getElement() == 0) continue;  // group lengths
            if (key == DCM_PixelData || key == DCM_FloatPixelData || key == DCM_DoubleFloatPixelData) continue;
            std::string name = keyFor(key);
            if (!keys.insert(name).second) name = hex4(key.getGroup()) + "," + hex4(key.getElement());
            if (!first) out.push_back(',');
            first = false;
            appendString(out, name);
            out.push_back(':');
            appendValue(out, element, depth, charset, path);
        }
    }
    out.push_back('}');
}

}  // namespace

}  // namespace gw

using namespace gw;

extern "C" char *gw_dicom_attributes_json(gw_dicom *dicom, gw_dicom_error *error) {
    clear(error);
    if (!dicom) {
        fail(error, GW_DCM_INVALID, "no file");
        return nullptr;
    }
    try {
        std::string out;
        out.reserve(8192);
        // The meta information and the dataset in one object (their tags never collide).
        std::string meta, data;
        // Text is converted to UTF-8 per the Specific Character Set of its item (PS3.5 6.1).
        appendItem(meta, dicom->file.getMetaInfo(), 0, Charset(), "");
        appendItem(data, dicom->file.getDataset(), 0, Charset(), "");
        if (meta.size() <= 2) {
            out = data;
        } else if (data.size() <= 2) {
            out = meta;
        } else {
            out = meta.substr(0, meta.size() - 1) + "," + data.substr(1);
        }
        char *result = copyString(out);
        if (!result) fail(error, GW_DCM_NOMEM, "out of memory");
        return result;
    } catch (...) {
        failFromException(error, "out of memory", "the attributes cannot be read (internal error)");
    }
    return nullptr;
}
