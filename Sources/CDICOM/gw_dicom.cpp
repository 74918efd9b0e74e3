// The extern "C" face over DCMTK: no C++ type or exception crosses into Swift.
//
// Reading: the file is parsed from memory with dcmdata. Pixel data is decoded per transfer syntax:
// native data is read as is; RLE, JPEG (dcmjpeg) and JPEG-LS (dcmjpls) through DCMTK's codecs, on a
// copy of the dataset so that the attributes stay those of the file; JPEG 2000 through OpenJPEG,
// one codestream per frame. Every failure is a code, a message and the place (tag or UID). Text
// reaches Swift in UTF-8, converted from the Specific Character Set; files are written in memory.
#include "gw_dicom.h"

#include <dcmtk/config/osconfig.h>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcspchrs.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrat.h>
#include <dcmtk/dcmdata/dcwcache.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>
#include <dcmtk/ofstd/ofchrenc.h>
#include <openjpeg-2.5/openjpeg.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <set>
#include <string>
#include <vector>

struct gw_dicom {
    std::vector<uint8_t> bytes;
    DcmFileFormat file;
    std::string transferSyntax;
    E_TransferSyntax xfer = EXS_Unknown;
    std::vector<uint8_t> decoded;
    size_t frameBytes = 0;
    uint32_t frames = 0;
};

namespace {

void fail(gw_dicom_error *error, int code, const std::string &message, const std::string &where = "") {
    if (!error) return;
    error->code = code;
    std::snprintf(error->message, sizeof error->message, "%s", message.c_str());
    std::snprintf(error->where, sizeof error->where, "%s", where.c_str());
}

void clear(gw_dicom_error *error) {
    if (!error) return;
    error->code = GW_DCM_OK;
    error->message[0] = 0;
    error->where[0] = 0;
}

void setUp() {
    static std::once_flag once;
    std::call_once(once, [] {
        OFLog::configure(OFLogger::OFF_LOG_LEVEL);
        DcmRLEDecoderRegistration::registerCodecs();
        DJDecoderRegistration::registerCodecs(EDC_photometricInterpretation);
        DJLSDecoderRegistration::registerCodecs();
    });
}

std::string hex4(unsigned value) {
    char text[8];
    std::snprintf(text, sizeof text, "%04X", value & 0xFFFF);
    return text;
}

/// "(GGGG,EEEE) Keyword" for messages.
std::string describeTag(const DcmTagKey &key) {
    std::string text = "(" + hex4(key.getGroup()) + "," + hex4(key.getElement()) + ")";
    DcmTag tag(key);
    const char *name = tag.getTagName();
    if (name && std::strcmp(name, DcmTag_ERROR_TagName) != 0) text += std::string(" ") + name;
    return text;
}

/// The deepest last element of a (partially read) item: where parsing stopped.
std::string lastElement(DcmItem *item, int depth = 0) {
    if (!item || item->card() == 0 || depth > 64) return "";
    DcmElement *element = item->getElement(item->card() - 1);
    if (!element) return "";
    std::string here = describeTag(element->getTag());
    if (element->ident() == EVR_SQ) {
        auto *sequence = static_cast<DcmSequenceOfItems *>(element);
        if (sequence->card() > 0) {
            std::string inner = lastElement(sequence->getItem(sequence->card() - 1), depth + 1);
            if (!inner.empty()) return here + " > " + inner;
        }
    }
    return here;
}

// MARK: JSON writing

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

void appendString(std::string &out, const std::string &text) { appendEscaped(out, text.data(), text.size()); }

void appendDouble(std::string &out, double value) {
    if (!(value == value) || value > 1.7e308 || value < -1.7e308) {
        out += "null";
        return;
    }
    char text[40];
    std::snprintf(text, sizeof text, "%.17g", value);
    out += text;
}

bool isBinaryVR(DcmEVR vr) {
    switch (vr) {
    case EVR_OB:
    case EVR_OW:
    case EVR_OF:
    case EVR_OD:
    case EVR_OL:
    case EVR_OV:
    case EVR_UN:
    case EVR_ox:
    case EVR_px:
    case EVR_lt:
    case EVR_UNKNOWN:
    case EVR_UNKNOWN2B:
        return true;
    default:
        return false;
    }
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

// MARK: character sets

/// A text attribute that cannot be read as UTF-8: its message and place (thrown inside this file
/// only, caught before returning to Swift).
struct CharsetFailure {
    int code;
    std::string message;
    std::string where;
};

/// How the text of an item is turned into UTF-8: the Specific Character Set (0008,0005) in force
/// (the item's own, else its parent's). Plain: the text is ASCII or UTF-8 as declared and is copied
/// (a byte that is not UTF-8 is read as ISO 8859-1). Converted: through DCMTK's converter.
/// Japanese: DICOM's ISO 2022 Japanese sets, which DCMTK names by iconv encodings that glibc lacks
/// (ISO-IR-87, ISO-IR-159), decoded here into EUC-JP and converted by iconv.
struct Charset {
    enum Mode { plain, converted, japanese };
    Mode mode = plain;
    std::string value;
    std::shared_ptr<DcmSpecificCharacterSet> converter;
    /// Japanese: ISO 2022 IR 13 is the first value (JIS X 0201 is the initial G0 and G1).
    bool katakanaFirst = false;
    bool needsConversion() const { return mode != plain; }
};

/// The values of a Specific Character Set, trimmed.
std::vector<std::string> charsetTerms(const std::string &value) {
    std::vector<std::string> terms;
    size_t start = 0;
    while (start <= value.size()) {
        size_t end = value.find('\\', start);
        if (end == std::string::npos) end = value.size();
        std::string term = value.substr(start, end - start);
        while (!term.empty() && term.back() == ' ') term.pop_back();
        while (!term.empty() && term.front() == ' ') term.erase(term.begin());
        terms.push_back(term);
        start = end + 1;
    }
    return terms;
}

/// True when a Specific Character Set value needs no conversion: absent or empty (the default
/// repertoire), ISO_IR 6 / ISO 2022 IR 6 (ASCII), or ISO_IR 192 (UTF-8).
bool isPlainCharset(const std::string &value) {
    if (value == "ISO_IR 192") return true;
    for (const std::string &term : charsetTerms(value)) {
        if (!term.empty() && term != "ISO_IR 6" && term != "ISO 2022 IR 6") return false;
    }
    return true;
}

/// True when every value is one of the Japanese ISO 2022 sets (or ASCII), and JIS X 0208 or
/// JIS X 0212 is among them.
bool isJapaneseCharset(const std::string &value, bool &katakanaFirst) {
    std::vector<std::string> terms = charsetTerms(value);
    bool multiByte = false;
    for (const std::string &term : terms) {
        if (term == "ISO 2022 IR 87" || term == "ISO 2022 IR 159") {
            multiByte = true;
        } else if (!term.empty() && term != "ISO 2022 IR 6" && term != "ISO 2022 IR 13") {
            return false;
        }
    }
    katakanaFirst = !terms.empty() && terms[0] == "ISO 2022 IR 13";
    return multiByte;
}

/// The character set of `item`: its own Specific Character Set when it has one, else `parent`.
/// Throws when the declared character set cannot be converted to UTF-8.
Charset charsetOf(DcmItem *item, const Charset &parent, const std::string &path) {
    DcmElement *element = nullptr;
    if (!item || item->findAndGetElement(DCM_SpecificCharacterSet, element, OFFalse).bad() || !element) return parent;
    OFString raw;
    element->getOFStringArray(raw, OFTrue);
    Charset result;
    result.value = raw.c_str();
    if (isPlainCharset(result.value)) return result;
    std::string where = path + describeTag(DCM_SpecificCharacterSet);
    if (!DcmSpecificCharacterSet::isConversionAvailable()) {
        throw CharsetFailure{GW_DCM_UNSUPPORTED,
                             "the text is in the character set '" + result.value +
                                 "', and this build of DCMTK cannot convert character sets",
                             where};
    }
    auto converter = std::make_shared<DcmSpecificCharacterSet>();
    OFCondition status = converter->selectCharacterSet(raw, "ISO_IR 192");
    std::vector<std::string> terms = charsetTerms(result.value);
    if (status.bad() && terms.size() == 1 && terms[0].compare(0, 12, "ISO 2022 IR ") == 0) {
        // A single value in its code-extension form ("ISO 2022 IR 100"): with nothing to switch
        // to, the same character set as its plain form ("ISO_IR 100"), as pydicom reads it.
        if (converter->selectCharacterSet(("ISO_IR " + terms[0].substr(12)).c_str(), "ISO_IR 192").good()) {
            status = EC_Normal;
        }
    }
    if (status.good()) {
        result.mode = Charset::converted;
        result.converter = converter;
        return result;
    }
    if (isJapaneseCharset(result.value, result.katakanaFirst)) {
        result.mode = Charset::japanese;
        return result;
    }
    throw CharsetFailure{GW_DCM_UNSUPPORTED,
                         "the character set '" + result.value + "' cannot be converted to UTF-8 (" + status.text() + ")",
                         where};
}

/// Text in DICOM's Japanese ISO 2022 sets (PS3.5 6.1.2.5.3 and Annex H) as UTF-8. G0 starts as
/// ASCII (or JIS X 0201 Romaji when ISO 2022 IR 13 is the first value, with its katakana in G1);
/// escape sequences switch G0 to JIS X 0208 (ESC $ B), JIS X 0212 (ESC $ ( D), ASCII (ESC ( B) or
/// Romaji (ESC ( J), and G1 to katakana (ESC ) I); a delimiter, read in a single-byte G0, returns
/// to the initial state. The bytes are rewritten as EUC-JP, which iconv turns into UTF-8.
bool japaneseToUTF8(const char *text, size_t length, bool katakanaFirst, const std::string &delimiters,
                    std::string &result) {
    enum G0 { ascii, jis0208, jis0212 };
    G0 g0 = ascii;
    bool katakana = katakanaFirst;
    std::string euc;
    const auto *bytes = reinterpret_cast<const unsigned char *>(text);
    size_t i = 0;
    while (i < length) {
        unsigned char byte = bytes[i];
        if (byte == 0x1B) {
            std::string escape(text + i + 1, std::min<size_t>(3, length - i - 1));
            if (escape.compare(0, 2, "$B") == 0 || escape.compare(0, 2, "$@") == 0) {
                g0 = jis0208;
                i += 3;
            } else if (escape.compare(0, 3, "$(D") == 0) {
                g0 = jis0212;
                i += 4;
            } else if (escape.compare(0, 2, "(B") == 0 || escape.compare(0, 2, "(J") == 0) {
                g0 = ascii;
                i += 3;
            } else if (escape.compare(0, 2, ")I") == 0) {
                katakana = true;
                i += 3;
            } else {
                return false;
            }
            continue;
        }
        if (g0 != ascii && byte >= 0x21 && byte <= 0x7E) {
            if (i + 1 >= length || bytes[i + 1] < 0x21 || bytes[i + 1] > 0x7E) return false;
            if (g0 == jis0212) euc.push_back(static_cast<char>(0x8F));
            euc.push_back(static_cast<char>(byte | 0x80));
            euc.push_back(static_cast<char>(bytes[i + 1] | 0x80));
            i += 2;
            continue;
        }
        if (byte < 0x80) {
            bool reset = byte == '\r' || byte == '\n' || byte == '\t' || byte == '\f' ||
                         delimiters.find(static_cast<char>(byte)) != std::string::npos;
            if (reset) {
                g0 = ascii;
                katakana = katakanaFirst;
            }
            euc.push_back(static_cast<char>(byte));
            i++;
            continue;
        }
        if (katakana && byte >= 0xA1 && byte <= 0xDF) {
            euc.push_back(static_cast<char>(0x8E));
            euc.push_back(static_cast<char>(byte));
            i++;
            continue;
        }
        return false;
    }
    OFString converted;
    OFCharacterEncoding encoding;
    if (encoding.selectEncoding("EUC-JP", "UTF-8").bad()) return false;
    if (encoding.convertString(euc.data(), euc.size(), converted).bad()) return false;
    result.assign(converted.c_str(), converted.size());
    return true;
}

/// The value of a text element in UTF-8; throws naming the element when its bytes are not valid
/// in the character set.
OFString utf8Value(DcmElement *element, const Charset &charset, const std::string &path) {
    char *raw = nullptr;
    Uint32 length = 0;
    element->getString(raw, length);
    std::string delimiters = DcmVR(element->getVR()).getDelimiterChars().c_str();
    OFCondition status = EC_Normal;
    OFString result;
    if (raw && length > 0) {
        if (charset.mode == Charset::converted) {
            status = charset.converter->convertString(raw, length, result, delimiters.c_str());
        } else {
            std::string text;
            if (japaneseToUTF8(raw, length, charset.katakanaFirst, delimiters, text)) {
                result = OFString(text.data(), text.size());
            } else {
                status = EC_IllegalCall;
            }
        }
    }
    if (status.bad()) {
        throw CharsetFailure{GW_DCM_CORRUPT,
                             "the text is not valid in the character set '" + charset.value +
                                 "' declared by (0008,0005) SpecificCharacterSet" +
                                 (charset.mode == Charset::converted ? std::string(" (") + status.text() + ")" : ""),
                             path + describeTag(element->getTag())};
    }
    return result;
}

/// Replaces an element's value with its converted text.
void storeText(DcmElement *element, const OFString &text, const std::string &path) {
    OFCondition status = element->putOFStringArray(text);
    if (status.bad()) {
        throw CharsetFailure{GW_DCM_CORRUPT, std::string("the text converted to UTF-8 cannot be stored: ") + status.text(),
                             path + describeTag(element->getTag())};
    }
}

bool needsConversion(DcmElement *element, const Charset &charset) {
    return charset.needsConversion() && element->getLength() > 0 && element->isAffectedBySpecificCharacterSet() &&
           element->ident() != EVR_SQ;
}

/// A copy of a text element with its value in UTF-8.
std::unique_ptr<DcmElement> convertedCopy(DcmElement *element, const Charset &charset, const std::string &path) {
    OFString text = utf8Value(element, charset, path);
    std::unique_ptr<DcmElement> copy(static_cast<DcmElement *>(element->clone()));
    if (!copy) throw std::bad_alloc();
    storeText(copy.get(), text, path);
    return copy;
}

/// Converts every text value of `item`, at every depth, to UTF-8 in place, and declares
/// ISO_IR 192 wherever a Specific Character Set was declared.
void convertInPlace(DcmItem *item, const Charset &parent, const std::string &path, int depth) {
    if (!item || depth > 64) return;
    Charset charset = charsetOf(item, parent, path);
    for (unsigned long i = 0; i < item->card(); i++) {
        DcmElement *element = item->getElement(i);
        if (!element) continue;
        if (element->ident() == EVR_SQ) {
            auto *sequence = static_cast<DcmSequenceOfItems *>(element);
            std::string inner = path + describeTag(element->getTag()) + " > ";
            for (unsigned long k = 0; k < sequence->card(); k++) {
                convertInPlace(sequence->getItem(k), charset, inner, depth + 1);
            }
        } else if (needsConversion(element, charset)) {
            storeText(element, utf8Value(element, charset, path), path);
        }
    }
    if (charset.needsConversion() && item->tagExists(DCM_SpecificCharacterSet)) {
        item->putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192");
    }
}

/// The text of a top-level attribute in UTF-8 (empty when absent).
std::string textOf(DcmItem *item, const DcmTagKey &key, const Charset &charset) {
    DcmElement *element = nullptr;
    if (item->findAndGetElement(key, element, OFFalse).bad() || !element) return "";
    std::unique_ptr<DcmElement> copy;
    if (needsConversion(element, charset)) {
        copy = convertedCopy(element, charset, "");
        element = copy.get();
    }
    OFString text;
    if (element->getOFStringArray(text, OFTrue).bad()) return "";
    return text.c_str();
}

/// Copies UTF-8 text into a fixed buffer, cut at a character boundary when it does not fit.
void copyUTF8(char *buffer, size_t capacity, const std::string &text) {
    size_t length = std::min(text.size(), capacity - 1);
    if (length < text.size()) {
        while (length > 0 && (static_cast<unsigned char>(text[length]) & 0xC0) == 0x80) length--;
    }
    std::memcpy(buffer, text.data(), length);
    buffer[length] = 0;
}

void appendItem(std::string &out, DcmItem *item, int depth, const Charset &parent, const std::string &path);

void appendValue(std::string &out, DcmElement *element, int depth, const Charset &charset, const std::string &path) {
    DcmEVR vr = element->ident();
    if (vr == EVR_SQ) {
        auto *sequence = static_cast<DcmSequenceOfItems *>(element);
        std::string inner = path + describeTag(element->getTag()) + " > ";
        out.push_back('[');
        for (unsigned long i = 0; i < sequence->card(); i++) {
            if (i) out.push_back(',');
            appendItem(out, sequence->getItem(i), depth + 1, charset, inner);
        }
        out.push_back(']');
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
        OFCondition status = EC_Normal;
        switch (vr) {
        case EVR_US: {
            Uint16 value = 0;
            status = element->getUint16(value, i);
            if (status.good()) out += std::to_string(value);
            break;
        }
        case EVR_SS: {
            Sint16 value = 0;
            status = element->getSint16(value, i);
            if (status.good()) out += std::to_string(value);
            break;
        }
        case EVR_UL: {
            Uint32 value = 0;
            status = element->getUint32(value, i);
            if (status.good()) out += std::to_string(value);
            break;
        }
        case EVR_SL: {
            Sint32 value = 0;
            status = element->getSint32(value, i);
            if (status.good()) out += std::to_string(value);
            break;
        }
        case EVR_FL: {
            Float32 value = 0;
            status = element->getFloat32(value, i);
            if (status.good()) {
                char text[32];
                std::snprintf(text, sizeof text, "%.9g", static_cast<double>(value));
                if (value != value || value > 3.4e38f || value < -3.4e38f)
                    out += "null";
                else
                    out += text;
            }
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
            if (single) {
                status = element->getOFStringArray(text, OFTrue);
            } else {
                status = element->getOFString(text, i, OFTrue);
            }
            if (status.bad()) break;
            if (vr == EVR_DS || vr == EVR_IS) {
                // A number when the text is one; otherwise the text as it is.
                const char *start = text.c_str();
                char *end = nullptr;
                double number = std::strtod(start, &end);
                if (end != start && *end == 0 && text.size() < 40 && number == number && number < 1e300 &&
                    number > -1e300) {
                    appendDouble(out, number);
                } else {
                    appendString(out, std::string(text.c_str(), text.size()));
                }
            } else {
                appendString(out, std::string(text.c_str(), text.size()));
            }
        }
        }
        if (status.bad()) out += "null";
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

char *copyString(const std::string &text) {
    char *result = static_cast<char *>(std::malloc(text.size() + 1));
    if (!result) return nullptr;
    std::memcpy(result, text.data(), text.size());
    result[text.size()] = 0;
    return result;
}

// MARK: JPEG 2000 through OpenJPEG

struct MemoryStream {
    const uint8_t *data;
    size_t size;
    size_t position;
};

OPJ_SIZE_T streamRead(void *buffer, OPJ_SIZE_T count, void *user) {
    auto *stream = static_cast<MemoryStream *>(user);
    if (stream->position >= stream->size) return static_cast<OPJ_SIZE_T>(-1);
    size_t available = stream->size - stream->position;
    size_t n = count < available ? count : available;
    std::memcpy(buffer, stream->data + stream->position, n);
    stream->position += n;
    return n;
}

OPJ_OFF_T streamSkip(OPJ_OFF_T count, void *user) {
    auto *stream = static_cast<MemoryStream *>(user);
    if (count < 0) {
        if (static_cast<size_t>(-count) > stream->position) return -1;
        stream->position -= static_cast<size_t>(-count);
        return count;
    }
    size_t available = stream->size - stream->position;
    size_t n = static_cast<size_t>(count) < available ? static_cast<size_t>(count) : available;
    stream->position += n;
    return static_cast<OPJ_OFF_T>(n);
}

OPJ_BOOL streamSeek(OPJ_OFF_T offset, void *user) {
    auto *stream = static_cast<MemoryStream *>(user);
    if (offset < 0 || static_cast<size_t>(offset) > stream->size) return OPJ_FALSE;
    stream->position = static_cast<size_t>(offset);
    return OPJ_TRUE;
}

void opjError(const char *message, void *user) {
    auto *text = static_cast<std::string *>(user);
    if (text->empty()) {
        *text = message;
        while (!text->empty() && (text->back() == '\n' || text->back() == ' ')) text->pop_back();
    }
}

void opjQuiet(const char *, void *) {}

struct OPJCleanup {
    opj_stream_t *stream = nullptr;
    opj_codec_t *codec = nullptr;
    opj_image_t *image = nullptr;
    ~OPJCleanup() {
        if (image) opj_image_destroy(image);
        if (codec) opj_destroy_codec(codec);
        if (stream) opj_stream_destroy(stream);
    }
};

/// Decodes one JPEG 2000 codestream (or JP2 file) into `out` as little-endian samples of
/// `bitsAllocated` bits, interleaved.
int decodeJ2K(const uint8_t *data, size_t size, uint32_t rows, uint32_t columns, uint32_t samples,
              uint32_t bitsAllocated, uint8_t *out, uint32_t frame, gw_dicom_error *error) {
    std::string where = "(7FE0,0010) PixelData, frame " + std::to_string(frame + 1);
    if (size < 12) {
        fail(error, GW_DCM_CORRUPT, "the JPEG 2000 data of frame " + std::to_string(frame + 1) + " is too short",
             where);
        return GW_DCM_CORRUPT;
    }
    OPJ_CODEC_FORMAT format = OPJ_CODEC_J2K;
    static const uint8_t jp2Signature[] = {0, 0, 0, 0x0C, 'j', 'P', ' ', ' '};
    if (std::memcmp(data, jp2Signature, sizeof jp2Signature) == 0) format = OPJ_CODEC_JP2;
    MemoryStream memory{data, size, 0};
    OPJCleanup opj;
    std::string message;
    opj.stream = opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_TRUE);
    opj.codec = opj_create_decompress(format);
    if (!opj.stream || !opj.codec) {
        fail(error, GW_DCM_NOMEM, "out of memory starting the JPEG 2000 decoder", where);
        return GW_DCM_NOMEM;
    }
    opj_stream_set_user_data(opj.stream, &memory, nullptr);
    opj_stream_set_user_data_length(opj.stream, size);
    opj_stream_set_read_function(opj.stream, streamRead);
    opj_stream_set_skip_function(opj.stream, streamSkip);
    opj_stream_set_seek_function(opj.stream, streamSeek);
    opj_set_error_handler(opj.codec, opjError, &message);
    opj_set_warning_handler(opj.codec, opjQuiet, nullptr);
    opj_set_info_handler(opj.codec, opjQuiet, nullptr);
    opj_dparameters_t parameters;
    opj_set_default_decoder_parameters(&parameters);
    if (!opj_setup_decoder(opj.codec, &parameters) || !opj_read_header(opj.stream, opj.codec, &opj.image) ||
        !opj_decode(opj.codec, opj.stream, opj.image) || !opj_end_decompress(opj.codec, opj.stream)) {
        fail(error, GW_DCM_CORRUPT,
             "the JPEG 2000 data of frame " + std::to_string(frame + 1) +
                 " cannot be decoded: " + (message.empty() ? std::string("OpenJPEG failed") : message),
             where);
        return GW_DCM_CORRUPT;
    }
    opj_image_t *image = opj.image;
    if (image->numcomps != samples) {
        fail(error, GW_DCM_CORRUPT,
             "the JPEG 2000 data has " + std::to_string(image->numcomps) + " components, SamplesPerPixel says " +
                 std::to_string(samples),
             "(0028,0002) SamplesPerPixel");
        return GW_DCM_CORRUPT;
    }
    for (uint32_t c = 0; c < samples; c++) {
        const opj_image_comp_t &component = image->comps[c];
        if (component.w != columns || component.h != rows || component.dx != 1 || component.dy != 1 ||
            !component.data) {
            fail(error, GW_DCM_CORRUPT,
                 "the JPEG 2000 data is " + std::to_string(component.w) + " x " + std::to_string(component.h) +
                     ", Rows and Columns say " + std::to_string(columns) + " x " + std::to_string(rows),
                 "(0028,0010) Rows");
            return GW_DCM_CORRUPT;
        }
        if (component.prec > bitsAllocated) {
            fail(error, GW_DCM_CORRUPT,
                 "the JPEG 2000 data has " + std::to_string(component.prec) + "-bit samples, BitsAllocated is " +
                     std::to_string(bitsAllocated),
                 "(0028,0100) BitsAllocated");
            return GW_DCM_CORRUPT;
        }
    }
    size_t pixels = static_cast<size_t>(rows) * columns;
    size_t bytesPerSample = bitsAllocated / 8;
    for (uint32_t c = 0; c < samples; c++) {
        const OPJ_INT32 *source = image->comps[c].data;
        for (size_t p = 0; p < pixels; p++) {
            uint32_t value = static_cast<uint32_t>(source[p]);
            uint8_t *target = out + (p * samples + c) * bytesPerSample;
            for (size_t b = 0; b < bytesPerSample; b++) target[b] = static_cast<uint8_t>(value >> (8 * b));
        }
    }
    return GW_DCM_OK;
}

bool isJPEG2000(const std::string &uid) {
    return uid == UID_JPEG2000LosslessOnlyTransferSyntax || uid == UID_JPEG2000TransferSyntax;
}

Uint16 getU16(DcmItem *item, const DcmTagKey &key, Uint16 fallback) {
    Uint16 value = fallback;
    if (item->findAndGetUint16(key, value).bad()) return fallback;
    return value;
}

int decodeFrames(gw_dicom *dicom, gw_dicom_pixels *pixels, gw_dicom_error *error) {
    DcmDataset *dataset = dicom->file.getDataset();
    DcmElement *pixelElement = nullptr;
    if (dataset->findAndGetElement(DCM_PixelData, pixelElement).bad() || !pixelElement) {
        if (dataset->tagExists(DCM_FloatPixelData) || dataset->tagExists(DCM_DoubleFloatPixelData)) {
            fail(error, GW_DCM_UNSUPPORTED, "floating-point pixel data is not supported", "(7FE0,0008) FloatPixelData");
            return GW_DCM_UNSUPPORTED;
        }
        if (dataset->tagExists(DCM_Rows) && dataset->tagExists(DCM_Columns)) {
            fail(error, GW_DCM_TRUNCATED, "the file describes an image but ends before its pixel data",
                 "(7FE0,0010) PixelData");
            return GW_DCM_TRUNCATED;
        }
        fail(error, GW_DCM_NO_PIXELS, "the file has no pixel data (it is not an image)", "(7FE0,0010) PixelData");
        return GW_DCM_NO_PIXELS;
    }
    struct Required {
        DcmTagKey key;
        const char *name;
    };
    const Required required[] = {{DCM_Rows, "(0028,0010) Rows"},
                                 {DCM_Columns, "(0028,0011) Columns"},
                                 {DCM_BitsAllocated, "(0028,0100) BitsAllocated"},
                                 {DCM_PhotometricInterpretation, "(0028,0004) PhotometricInterpretation"}};
    for (const auto &r : required) {
        if (!dataset->tagExistsWithValue(r.key)) {
            fail(error, GW_DCM_CORRUPT, std::string("the image lacks ") + r.name, r.name);
            return GW_DCM_CORRUPT;
        }
    }
    uint32_t rows = getU16(dataset, DCM_Rows, 0);
    uint32_t columns = getU16(dataset, DCM_Columns, 0);
    uint32_t samples = getU16(dataset, DCM_SamplesPerPixel, 1);
    uint32_t bitsAllocated = getU16(dataset, DCM_BitsAllocated, 0);
    uint32_t bitsStored = getU16(dataset, DCM_BitsStored, static_cast<Uint16>(bitsAllocated));
    uint32_t highBit = getU16(dataset, DCM_HighBit, static_cast<Uint16>(bitsStored - 1));
    uint32_t representation = getU16(dataset, DCM_PixelRepresentation, 0);
    uint32_t planar = getU16(dataset, DCM_PlanarConfiguration, 0);
    OFString photometricText;
    dataset->findAndGetOFString(DCM_PhotometricInterpretation, photometricText);
    std::string photometric(photometricText.c_str());
    Sint32 frameCount = 1;
    if (dataset->tagExistsWithValue(DCM_NumberOfFrames)) {
        if (dataset->findAndGetSint32(DCM_NumberOfFrames, frameCount).bad() || frameCount < 1) {
            fail(error, GW_DCM_CORRUPT, "NumberOfFrames is not a positive number", "(0028,0008) NumberOfFrames");
            return GW_DCM_CORRUPT;
        }
    }
    if (rows == 0 || columns == 0) {
        fail(error, GW_DCM_CORRUPT, "Rows and Columns must be positive", "(0028,0010) Rows");
        return GW_DCM_CORRUPT;
    }
    if (bitsAllocated != 8 && bitsAllocated != 16 && bitsAllocated != 32) {
        fail(error, GW_DCM_UNSUPPORTED,
             "BitsAllocated " + std::to_string(bitsAllocated) + " is not supported (8, 16 or 32)",
             "(0028,0100) BitsAllocated");
        return GW_DCM_UNSUPPORTED;
    }
    if (bitsStored < 1 || bitsStored > bitsAllocated || highBit >= bitsAllocated || highBit + 1 < bitsStored) {
        fail(error, GW_DCM_CORRUPT,
             "BitsStored " + std::to_string(bitsStored) + " and HighBit " + std::to_string(highBit) +
                 " do not fit BitsAllocated " + std::to_string(bitsAllocated),
             "(0028,0101) BitsStored");
        return GW_DCM_CORRUPT;
    }
    if (samples != 1 && samples != 3) {
        fail(error, GW_DCM_UNSUPPORTED, "SamplesPerPixel " + std::to_string(samples) + " is not supported (1 or 3)",
             "(0028,0002) SamplesPerPixel");
        return GW_DCM_UNSUPPORTED;
    }
    if (representation > 1 || planar > 1) {
        fail(error, GW_DCM_CORRUPT, "PixelRepresentation and PlanarConfiguration must be 0 or 1",
             "(0028,0103) PixelRepresentation");
        return GW_DCM_CORRUPT;
    }
    uint64_t pixelCount = static_cast<uint64_t>(rows) * columns;
    uint64_t frameBytes = pixelCount * samples * (bitsAllocated / 8);
    uint64_t total = frameBytes * static_cast<uint64_t>(frameCount);
    if (total > (uint64_t(1) << 34)) {
        fail(error, GW_DCM_UNSUPPORTED, "the pixel data is larger than 16 GiB", "(7FE0,0010) PixelData");
        return GW_DCM_UNSUPPORTED;
    }

    DcmXfer xfer(dicom->xfer);
    const std::string &uid = dicom->transferSyntax;
    if (!xfer.isEncapsulated()) {
        bool subsampled = photometric == "YBR_FULL_422" && samples == 3;
        if (subsampled) {
            if (columns % 2 != 0) {
                fail(error, GW_DCM_CORRUPT, "YBR_FULL_422 needs an even number of Columns", "(0028,0011) Columns");
                return GW_DCM_CORRUPT;
            }
            frameBytes = pixelCount * 2 * (bitsAllocated / 8);
            total = frameBytes * static_cast<uint64_t>(frameCount);
        }
        Uint8 *data = nullptr;
        Uint32 length = pixelElement->getLength();
        if (length < total) {
            fail(error, GW_DCM_TRUNCATED,
                 "the pixel data holds " + std::to_string(length) + " bytes, " + std::to_string(frameCount) +
                     " frame(s) of " + std::to_string(rows) + " x " + std::to_string(columns) + " need " +
                     std::to_string(total),
                 "(7FE0,0010) PixelData");
            return GW_DCM_TRUNCATED;
        }
        OFCondition status;
        if (pixelElement->getVR() == EVR_OW || (pixelElement->getVR() != EVR_OB && bitsAllocated > 8)) {
            Uint16 *words = nullptr;
            status = pixelElement->getUint16Array(words);
            data = reinterpret_cast<Uint8 *>(words);
        } else {
            status = pixelElement->getUint8Array(data);
        }
        if (status.bad() || !data) {
            fail(error, GW_DCM_CORRUPT, std::string("the pixel data cannot be read: ") + status.text(),
                 "(7FE0,0010) PixelData");
            return GW_DCM_CORRUPT;
        }
        dicom->decoded.assign(data, data + total);
        // 32-bit samples of a big-endian file arrive as swapped 16-bit words: put them in order.
        if (bitsAllocated == 32 && pixelElement->getVR() == EVR_OW && dicom->xfer == EXS_BigEndianExplicit) {
            for (size_t i = 0; i + 3 < dicom->decoded.size(); i += 4) {
                std::swap(dicom->decoded[i], dicom->decoded[i + 2]);
                std::swap(dicom->decoded[i + 1], dicom->decoded[i + 3]);
            }
        }
    } else if (isJPEG2000(uid)) {
        auto *pixelData = static_cast<DcmPixelData *>(pixelElement);
        DcmPixelSequence *sequence = nullptr;
        if (pixelData->getEncapsulatedRepresentation(dicom->xfer, nullptr, sequence).bad() || !sequence) {
            fail(error, GW_DCM_CORRUPT, "the encapsulated pixel data cannot be read", "(7FE0,0010) PixelData");
            return GW_DCM_CORRUPT;
        }
        unsigned long fragments = sequence->card();
        if (fragments < 2) {
            fail(error, GW_DCM_CORRUPT, "the encapsulated pixel data has no fragments", "(7FE0,0010) PixelData");
            return GW_DCM_CORRUPT;
        }
        // Fragments to frames: one each, all of them for one frame, or as the offset table says.
        std::vector<std::vector<unsigned long>> groups;
        if (frameCount == 1) {
            groups.emplace_back();
            for (unsigned long f = 1; f < fragments; f++) groups.back().push_back(f);
        } else if (fragments - 1 == static_cast<unsigned long>(frameCount)) {
            for (unsigned long f = 1; f < fragments; f++) groups.push_back({f});
        } else {
            DcmPixelItem *table = nullptr;
            Uint32 *offsets = nullptr;
            sequence->getItem(table, 0);
            unsigned long tableLength = table ? table->getLength() : 0;
            if (!table || tableLength != 4 * static_cast<unsigned long>(frameCount) ||
                table->getUint32Array(offsets).bad() || !offsets) {
                fail(error, GW_DCM_UNSUPPORTED,
                     std::to_string(fragments - 1) + " fragments for " + std::to_string(frameCount) +
                         " frames and no usable offset table",
                     "(7FE0,0010) PixelData");
                return GW_DCM_UNSUPPORTED;
            }
            uint64_t position = 0;
            size_t frame = 0;
            for (unsigned long f = 1; f < fragments; f++) {
                DcmPixelItem *item = nullptr;
                sequence->getItem(item, f);
                while (frame + 1 < static_cast<size_t>(frameCount) && position >= offsets[frame + 1]) frame++;
                if (groups.size() <= frame) groups.resize(frame + 1);
                groups[frame].push_back(f);
                position += 8 + (item ? item->getLength() : 0);
            }
            if (groups.size() != static_cast<size_t>(frameCount)) {
                fail(error, GW_DCM_CORRUPT, "the offset table does not match the fragments", "(7FE0,0010) PixelData");
                return GW_DCM_CORRUPT;
            }
        }
        dicom->decoded.assign(total, 0);
        std::vector<uint8_t> joined;
        for (size_t frame = 0; frame < groups.size(); frame++) {
            joined.clear();
            for (unsigned long f : groups[frame]) {
                DcmPixelItem *item = nullptr;
                Uint8 *bytes = nullptr;
                if (sequence->getItem(item, f).bad() || !item) continue;
                if (item->getLength() == 0) continue;
                if (item->getUint8Array(bytes).bad() || !bytes) continue;
                joined.insert(joined.end(), bytes, bytes + item->getLength());
            }
            int status = decodeJ2K(joined.data(), joined.size(), rows, columns, samples, bitsAllocated,
                                   dicom->decoded.data() + frame * frameBytes, static_cast<uint32_t>(frame), error);
            if (status != GW_DCM_OK) return status;
        }
        planar = 0;
        if (photometric == "YBR_ICT" || photometric == "YBR_RCT") photometric = "RGB";
    } else {
        DcmXfer target(EXS_LittleEndianExplicit);
        // Decode a copy, so that the attributes (photometric interpretation, planar configuration)
        // stay those of the file for everything else that reads them.
        std::unique_ptr<DcmDataset> copy(new DcmDataset(*dataset));
        OFCondition status = copy->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
        if (status.bad() || !copy->canWriteXfer(EXS_LittleEndianExplicit)) {
            bool known = std::strcmp(xfer.getXferName(), "Unknown Transfer Syntax") != 0;
            std::string why = status.bad() ? status.text() : "no decoder for it";
            if (status == EC_CannotChangeRepresentation || status.bad() == false) {
                fail(error, GW_DCM_UNSUPPORTED,
                     "transfer syntax " + uid + (known ? std::string(" (") + xfer.getXferName() + ")" : "") +
                         " is not supported",
                     uid);
                return GW_DCM_UNSUPPORTED;
            }
            fail(error, GW_DCM_CORRUPT,
                 std::string("the compressed pixel data (") + xfer.getXferName() + ") cannot be decoded: " + why, uid);
            return GW_DCM_CORRUPT;
        }
        DcmElement *decodedElement = nullptr;
        Uint8 *data = nullptr;
        if (copy->findAndGetElement(DCM_PixelData, decodedElement).bad() || !decodedElement) {
            fail(error, GW_DCM_CORRUPT, "the decoded pixel data is missing", "(7FE0,0010) PixelData");
            return GW_DCM_CORRUPT;
        }
        if (decodedElement->getVR() == EVR_OW) {
            Uint16 *words = nullptr;
            status = decodedElement->getUint16Array(words);
            data = reinterpret_cast<Uint8 *>(words);
        } else {
            status = decodedElement->getUint8Array(data);
        }
        OFString decodedPhotometric;
        copy->findAndGetOFString(DCM_PhotometricInterpretation, decodedPhotometric);
        photometric = decodedPhotometric.c_str();
        planar = getU16(copy.get(), DCM_PlanarConfiguration, 0);
        uint32_t decodedBits = getU16(copy.get(), DCM_BitsAllocated, static_cast<Uint16>(bitsAllocated));
        if (decodedBits != bitsAllocated) {
            bitsAllocated = decodedBits;
            frameBytes = pixelCount * samples * (bitsAllocated / 8);
            total = frameBytes * static_cast<uint64_t>(frameCount);
        }
        if (status.bad() || !data || decodedElement->getLength() < total) {
            fail(error, GW_DCM_TRUNCATED,
                 "the decoded pixel data holds " + std::to_string(decodedElement->getLength()) + " bytes, " +
                     std::to_string(total) + " expected",
                 "(7FE0,0010) PixelData");
            return GW_DCM_TRUNCATED;
        }
        dicom->decoded.assign(data, data + total);
    }
    dicom->frameBytes = static_cast<size_t>(frameBytes);
    dicom->frames = static_cast<uint32_t>(frameCount);
    pixels->rows = rows;
    pixels->columns = columns;
    pixels->frames = static_cast<uint32_t>(frameCount);
    pixels->samples_per_pixel = samples;
    pixels->bits_allocated = bitsAllocated;
    pixels->bits_stored = bitsStored;
    pixels->high_bit = highBit;
    pixels->pixel_representation = representation;
    pixels->planar_configuration = planar;
    std::snprintf(pixels->photometric, sizeof pixels->photometric, "%s", photometric.c_str());
    pixels->frame_bytes = dicom->frameBytes;
    return GW_DCM_OK;
}

// MARK: de-identification

const gw_deid_rule *ruleFor(const DcmTagKey &key, const gw_deid_rule *rules, size_t count) {
    uint32_t tag = (static_cast<uint32_t>(key.getGroup()) << 16) | key.getElement();
    for (size_t i = 0; i < count; i++) {
        if ((tag & rules[i].mask) == rules[i].tag) return &rules[i];
    }
    return nullptr;
}

void collectUIDs(DcmItem *item, const gw_deid_rule *rules, size_t count, std::set<std::string> &uids, int depth) {
    if (!item || depth > 64) return;
    for (unsigned long i = 0; i < item->card(); i++) {
        DcmElement *element = item->getElement(i);
        if (!element) continue;
        if (element->ident() == EVR_SQ) {
            auto *sequence = static_cast<DcmSequenceOfItems *>(element);
            for (unsigned long k = 0; k < sequence->card(); k++)
                collectUIDs(sequence->getItem(k), rules, count, uids, depth + 1);
            continue;
        }
        const gw_deid_rule *rule = ruleFor(element->getTag(), rules, count);
        if (!rule || rule->action != 'U' || element->ident() != EVR_UI) continue;
        for (unsigned long v = 0; v < element->getVM(); v++) {
            OFString value;
            if (element->getOFString(value, v, OFTrue).good() && !value.empty()) uids.insert(value.c_str());
        }
    }
}

std::string dummyFor(DcmEVR vr) {
    switch (vr) {
    case EVR_DA:
        return "19000101";
    case EVR_TM:
        return "000000.00";
    case EVR_DT:
        return "19000101000000.00";
    case EVR_DS:
    case EVR_IS:
        return "0";
    case EVR_AS:
        return "000Y";
    case EVR_PN:
        return "ANONYMOUS";
    case EVR_UI:
        return "2.25.0";
    default:
        return "ANONYMIZED";
    }
}

std::string cleanText(const std::string &text, const char *const *words, size_t count) {
    std::string result = text;
    for (size_t w = 0; w < count; w++) {
        std::string word = words[w] ? words[w] : "";
        if (word.size() < 2) continue;
        // Case-insensitive search, so "Doe" in a description is found for a name "DOE".
        for (;;) {
            auto it = std::search(result.begin(), result.end(), word.begin(), word.end(), [](char a, char b) {
                return std::toupper(static_cast<unsigned char>(a)) == std::toupper(static_cast<unsigned char>(b));
            });
            if (it == result.end()) break;
            result.replace(it, it + static_cast<long>(word.size()), "*");
        }
    }
    bool meaningful = false;
    for (char c : result) {
        if (std::isalnum(static_cast<unsigned char>(c))) meaningful = true;
    }
    return meaningful ? result : "";
}

struct DeidContext {
    const gw_deid_rule *rules;
    size_t count;
    bool removePrivate;
    std::map<std::string, std::string> uids;
    const char *const *words;
    size_t wordCount;
};

int applyRules(DcmItem *item, DeidContext &context, gw_dicom_error *error, int depth) {
    if (!item || depth > 64) return GW_DCM_OK;
    for (unsigned long i = item->card(); i-- > 0;) {
        DcmElement *element = item->getElement(i);
        if (!element) continue;
        DcmTagKey key = element->getTag();
        if (key == DCM_PixelData) continue;
        if (context.removePrivate && (key.getGroup() & 1)) {
            delete item->remove(element);
            continue;
        }
        const gw_deid_rule *rule = ruleFor(key, context.rules, context.count);
        char action = rule ? rule->action : 'K';
        if (element->ident() == EVR_SQ && action != 'X' && action != 'Z') {
            auto *sequence = static_cast<DcmSequenceOfItems *>(element);
            for (unsigned long k = 0; k < sequence->card(); k++) {
                int status = applyRules(sequence->getItem(k), context, error, depth + 1);
                if (status != GW_DCM_OK) return status;
            }
            continue;
        }
        OFCondition status = EC_Normal;
        switch (action) {
        case 'X':
            delete item->remove(element);
            break;
        case 'Z':
            if (element->ident() == EVR_SQ) {
                static_cast<DcmSequenceOfItems *>(element)->clear();
            } else {
                status = element->putString("");
            }
            break;
        case 'D': {
            std::string value = rule->value ? rule->value : dummyFor(element->ident());
            if (element->ident() == EVR_SQ || isBinaryVR(element->ident())) {
                delete item->remove(element);
            } else {
                status = element->putString(value.c_str());
            }
            break;
        }
        case 'C': {
            if (element->ident() == EVR_SQ || isBinaryVR(element->ident())) {
                delete item->remove(element);
                break;
            }
            OFString text;
            element->getOFStringArray(text, OFFalse);
            std::string cleaned = cleanText(text.c_str(), context.words, context.wordCount);
            status = element->putString(cleaned.c_str());
            break;
        }
        case 'U': {
            if (element->ident() != EVR_UI) {
                delete item->remove(element);
                break;
            }
            std::string replaced;
            for (unsigned long v = 0; v < element->getVM(); v++) {
                OFString value;
                element->getOFString(value, v, OFTrue);
                auto found = context.uids.find(value.c_str());
                if (found == context.uids.end()) {
                    fail(error, GW_DCM_INVALID, "no replacement for UID " + std::string(value.c_str()),
                         describeTag(key));
                    return GW_DCM_INVALID;
                }
                if (v) replaced += "\\";
                replaced += found->second;
            }
            status = element->putString(replaced.c_str());
            break;
        }
        default:
            break;
        }
        if (status.bad()) {
            fail(error, GW_DCM_CORRUPT, std::string("cannot change the attribute: ") + status.text(), describeTag(key));
            return GW_DCM_CORRUPT;
        }
    }
    return GW_DCM_OK;
}

}  // namespace

extern "C" const char *gw_dicom_toolkit_version(void) { return OFFIS_DCMTK_VERSION_STRING; }

extern "C" gw_dicom *gw_dicom_open(const uint8_t *data, size_t size, gw_dicom_error *error) {
    clear(error);
    try {
        setUp();
        if (!data || size < 132 || std::memcmp(data + 128, "DICM", 4) != 0) {
            fail(error, GW_DCM_NOT_DICOM, "not a DICOM file: no \"DICM\" after the 128-byte preamble");
            return nullptr;
        }
        std::unique_ptr<gw_dicom> dicom(new gw_dicom());
        dicom->bytes.assign(data, data + size);
        DcmInputBufferStream stream;
        stream.setBuffer(dicom->bytes.data(), static_cast<offile_off_t>(size));
        stream.setEos();
        dicom->file.transferInit();
        OFCondition status = dicom->file.read(stream, EXS_Unknown, EGL_noChange, 0xFFFFFFFE);
        dicom->file.transferEnd();
        OFString uid;
        dicom->file.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, uid);
        dicom->transferSyntax = uid.c_str();
        if (status.bad()) {
            std::string where = lastElement(dicom->file.getDataset());
            if (where.empty()) where = lastElement(dicom->file.getMetaInfo());
            // An element longer than what is left reads as an invalid stream: the file was cut short
            // inside it (or its length is corrupt); when that element is the pixel data, it was cut.
            bool inPixels = where.find("(7FE0,0010)") != std::string::npos;
            bool truncated = status == EC_StreamNotifyClient || status == EC_PrematureSequDelimitationItem ||
                             status == EC_SequEnd || status == EC_ItemEnd || (status == EC_InvalidStream && inPixels);
            if (!dicom->transferSyntax.empty() && DcmXfer(dicom->transferSyntax.c_str()).getXfer() == EXS_Unknown) {
                fail(error, GW_DCM_UNSUPPORTED, "transfer syntax " + dicom->transferSyntax + " is not supported",
                     dicom->transferSyntax);
                return nullptr;
            }
            fail(error, truncated ? GW_DCM_TRUNCATED : GW_DCM_CORRUPT,
                 std::string(truncated ? "the file ends early (truncated): " : "the file cannot be parsed: ") + status.text() +
                     (where.empty() ? std::string("") : " (at " + where + ")"),
                 where);
            return nullptr;
        }
        DcmDataset *dataset = dicom->file.getDataset();
        dicom->xfer = dataset->getOriginalXfer();
        if (dicom->transferSyntax.empty()) {
            fail(error, GW_DCM_CORRUPT, "the file meta information has no transfer syntax",
                 "(0002,0010) TransferSyntaxUID");
            return nullptr;
        }
        if (DcmXfer(dicom->transferSyntax.c_str()).getXfer() == EXS_Unknown) {
            fail(error, GW_DCM_UNSUPPORTED, "transfer syntax " + dicom->transferSyntax + " is not supported",
                 dicom->transferSyntax);
            return nullptr;
        }
        if (dataset->card() == 0) {
            fail(error, GW_DCM_TRUNCATED, "the file has no dataset after its meta information",
                 "(0002,0010) TransferSyntaxUID");
            return nullptr;
        }
        return dicom.release();
    } catch (const std::bad_alloc &) {
        fail(error, GW_DCM_NOMEM, "out of memory reading the file");
    } catch (...) {
        fail(error, GW_DCM_CORRUPT, "the file cannot be parsed (internal error)");
    }
    return nullptr;
}

extern "C" void gw_dicom_close(gw_dicom *dicom) {
    try {
        delete dicom;
    } catch (...) {
    }
}

extern "C" void gw_dicom_free(void *pointer) { std::free(pointer); }

extern "C" const char *gw_dicom_transfer_syntax(const gw_dicom *dicom) {
    return dicom ? dicom->transferSyntax.c_str() : "";
}

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
    } catch (const CharsetFailure &failure) {
        fail(error, failure.code, failure.message, failure.where);
    } catch (const std::bad_alloc &) {
        fail(error, GW_DCM_NOMEM, "out of memory");
    } catch (...) {
        fail(error, GW_DCM_CORRUPT, "the attributes cannot be read (internal error)");
    }
    return nullptr;
}

extern "C" int gw_dicom_decode(gw_dicom *dicom, gw_dicom_pixels *pixels, gw_dicom_error *error) {
    clear(error);
    if (!dicom || !pixels) {
        fail(error, GW_DCM_INVALID, "no file");
        return GW_DCM_INVALID;
    }
    try {
        std::memset(pixels, 0, sizeof *pixels);
        dicom->decoded.clear();
        dicom->frames = 0;
        int status = decodeFrames(dicom, pixels, error);
        if (status != GW_DCM_OK) {
            dicom->decoded.clear();
            dicom->decoded.shrink_to_fit();
            dicom->frames = 0;
        }
        return status;
    } catch (const std::bad_alloc &) {
        fail(error, GW_DCM_NOMEM, "out of memory decoding the pixel data", "(7FE0,0010) PixelData");
        return GW_DCM_NOMEM;
    } catch (...) {
        fail(error, GW_DCM_CORRUPT, "the pixel data cannot be decoded (internal error)", "(7FE0,0010) PixelData");
        return GW_DCM_CORRUPT;
    }
}

extern "C" int gw_dicom_pixel_bytes(gw_dicom *dicom, uint8_t **output, size_t *size, gw_dicom_error *error) {
    clear(error);
    if (!dicom || !output || !size) {
        fail(error, GW_DCM_INVALID, "no file");
        return GW_DCM_INVALID;
    }
    *output = nullptr;
    *size = 0;
    try {
        DcmElement *element = nullptr;
        if (dicom->file.getDataset()->findAndGetElement(DCM_PixelData, element).bad() || !element) {
            fail(error, GW_DCM_NO_PIXELS, "the file has no pixel data", "(7FE0,0010) PixelData");
            return GW_DCM_NO_PIXELS;
        }
        if (DcmXfer(dicom->xfer).isEncapsulated()) {
            fail(error, GW_DCM_UNSUPPORTED, "encapsulated (compressed) pixel data is not supported here",
                 dicom->transferSyntax);
            return GW_DCM_UNSUPPORTED;
        }
        Uint32 length = element->getLength();
        Uint8 *data = nullptr;
        OFCondition status;
        if (element->getVR() == EVR_OW) {
            Uint16 *words = nullptr;
            status = element->getUint16Array(words);
            data = reinterpret_cast<Uint8 *>(words);
        } else {
            status = element->getUint8Array(data);
        }
        if (length > 0 && (status.bad() || !data)) {
            fail(error, GW_DCM_CORRUPT, std::string("the pixel data cannot be read: ") + status.text(),
                 "(7FE0,0010) PixelData");
            return GW_DCM_CORRUPT;
        }
        auto *copy = static_cast<uint8_t *>(std::malloc(length > 0 ? length : 1));
        if (!copy) {
            fail(error, GW_DCM_NOMEM, "out of memory reading the pixel data", "(7FE0,0010) PixelData");
            return GW_DCM_NOMEM;
        }
        if (length > 0) std::memcpy(copy, data, length);
        // Words of a big-endian file arrive in host order: write them back as a little-endian stream.
        if (element->getVR() == EVR_OW) {
            for (Uint32 i = 0; i + 1 < length; i += 2) {
                uint16_t word;
                std::memcpy(&word, copy + i, 2);
                copy[i] = static_cast<uint8_t>(word & 0xFF);
                copy[i + 1] = static_cast<uint8_t>(word >> 8);
            }
        }
        *output = copy;
        *size = length;
        return GW_DCM_OK;
    } catch (const std::bad_alloc &) {
        fail(error, GW_DCM_NOMEM, "out of memory reading the pixel data", "(7FE0,0010) PixelData");
        return GW_DCM_NOMEM;
    } catch (...) {
        fail(error, GW_DCM_CORRUPT, "the pixel data cannot be read (internal error)", "(7FE0,0010) PixelData");
        return GW_DCM_CORRUPT;
    }
}

extern "C" const uint8_t *gw_dicom_frame(const gw_dicom *dicom, uint32_t index) {
    if (!dicom || index >= dicom->frames || dicom->decoded.size() < (static_cast<size_t>(index) + 1) * dicom->frameBytes)
        return nullptr;
    return dicom->decoded.data() + static_cast<size_t>(index) * dicom->frameBytes;
}

extern "C" int gw_dicom_lut_read(gw_dicom *dicom, int which, uint32_t itemIndex, int pixelSigned, gw_dicom_lut *lut,
                                 gw_dicom_error *error) {
    clear(error);
    if (!dicom || !lut) {
        fail(error, GW_DCM_INVALID, "no file");
        return GW_DCM_INVALID;
    }
    std::memset(lut, 0, sizeof *lut);
    try {
        DcmDataset *dataset = dicom->file.getDataset();
        DcmItem *item = dataset;
        DcmTagKey descriptorKey, dataKey;
        std::string place;
        switch (which) {
        case GW_LUT_MODALITY:
        case GW_LUT_VOI: {
            DcmTagKey sequenceKey = which == GW_LUT_MODALITY ? DCM_ModalityLUTSequence : DCM_VOILUTSequence;
            DcmItem *found = nullptr;
            if (dataset->findAndGetSequenceItem(sequenceKey, found, static_cast<signed long>(itemIndex)).bad() ||
                !found) {
                fail(error, GW_DCM_INVALID, "no such lookup table");
                return GW_DCM_INVALID;
            }
            item = found;
            descriptorKey = DCM_LUTDescriptor;
            dataKey = DCM_LUTData;
            place = describeTag(sequenceKey) + " > ";
            break;
        }
        case GW_LUT_RED:
            descriptorKey = DCM_RedPaletteColorLookupTableDescriptor;
            dataKey = DCM_RedPaletteColorLookupTableData;
            break;
        case GW_LUT_GREEN:
            descriptorKey = DCM_GreenPaletteColorLookupTableDescriptor;
            dataKey = DCM_GreenPaletteColorLookupTableData;
            break;
        case GW_LUT_BLUE:
            descriptorKey = DCM_BluePaletteColorLookupTableDescriptor;
            dataKey = DCM_BluePaletteColorLookupTableData;
            break;
        default:
            fail(error, GW_DCM_INVALID, "no such lookup table");
            return GW_DCM_INVALID;
        }
        DcmTagKey segmentedKey = which == GW_LUT_RED     ? DCM_SegmentedRedPaletteColorLookupTableData
                                 : which == GW_LUT_GREEN ? DCM_SegmentedGreenPaletteColorLookupTableData
                                                         : DCM_SegmentedBluePaletteColorLookupTableData;
        bool segmented = which >= GW_LUT_RED && !item->tagExists(dataKey) && item->tagExists(segmentedKey);
        if (segmented) dataKey = segmentedKey;
        if (which >= GW_LUT_RED && !item->tagExists(dataKey)) {
            fail(error, GW_DCM_CORRUPT, "the palette colour lookup table is missing", describeTag(dataKey));
            return GW_DCM_CORRUPT;
        }
        DcmElement *descriptor = nullptr;
        if (item->findAndGetElement(descriptorKey, descriptor).bad() || !descriptor || descriptor->getVM() != 3) {
            fail(error, GW_DCM_CORRUPT, "the LUT descriptor must have 3 values", place + describeTag(descriptorKey));
            return GW_DCM_CORRUPT;
        }
        // The descriptor is US or SS (its first mapped value may be negative): read the bits either way.
        Uint16 d[3] = {0, 0, 0};
        for (unsigned long k = 0; k < 3; k++) {
            if (descriptor->getUint16(d[k], k).bad()) {
                Sint16 value = 0;
                descriptor->getSint16(value, k);
                d[k] = static_cast<Uint16>(value);
            }
        }
        Uint16 d0 = d[0], d1 = d[1], d2 = d[2];
        uint32_t entries = d0 == 0 ? 65536u : d0;
        int32_t first = pixelSigned ? static_cast<int32_t>(static_cast<int16_t>(d1)) : static_cast<int32_t>(d1);
        DcmElement *dataElement = nullptr;
        Uint16 *words = nullptr;
        if (item->findAndGetElement(dataKey, dataElement).bad() || !dataElement) {
            fail(error, GW_DCM_CORRUPT, "the LUT data is missing", place + describeTag(dataKey));
            return GW_DCM_CORRUPT;
        }
        unsigned long length = dataElement->getLength();
        Uint8 *bytes = nullptr;
        if (dataElement->getVR() == EVR_OB) {
            dataElement->getUint8Array(bytes);
        } else {
            dataElement->getUint16Array(words);
        }
        if (segmented) {
            if (!words || length < 4) {
                fail(error, GW_DCM_CORRUPT, "the segmented lookup table data is too short", describeTag(dataKey));
                return GW_DCM_CORRUPT;
            }
            uint32_t count = static_cast<uint32_t>(length / 2);
            lut->data = static_cast<uint16_t *>(std::malloc(sizeof(uint16_t) * count));
            if (!lut->data) {
                fail(error, GW_DCM_NOMEM, "out of memory");
                return GW_DCM_NOMEM;
            }
            std::memcpy(lut->data, words, sizeof(uint16_t) * count);
            lut->entries = entries;
            lut->first_mapped = first;
            lut->bits = d2;
            lut->segmented = 1;
            lut->length = count;
            return GW_DCM_OK;
        }
        lut->data = static_cast<uint16_t *>(std::malloc(sizeof(uint16_t) * entries));
        if (!lut->data) {
            fail(error, GW_DCM_NOMEM, "out of memory");
            return GW_DCM_NOMEM;
        }
        if (bytes && length >= entries) {
            for (uint32_t i = 0; i < entries; i++) lut->data[i] = bytes[i];
        } else if (words && length / 2 >= entries) {
            for (uint32_t i = 0; i < entries; i++) lut->data[i] = words[i];
        } else if (words && d2 == 8 && length >= entries) {
            // 8-bit entries packed two a word.
            const auto *packed = reinterpret_cast<const uint8_t *>(words);
            for (uint32_t i = 0; i < entries; i++) lut->data[i] = packed[i];
        } else {
            std::free(lut->data);
            lut->data = nullptr;
            fail(error, GW_DCM_CORRUPT,
                 "the LUT data holds " + std::to_string(length) + " bytes for " + std::to_string(entries) + " entries",
                 place + describeTag(dataKey));
            return GW_DCM_CORRUPT;
        }
        lut->entries = entries;
        lut->first_mapped = first;
        lut->bits = d2;
        lut->length = entries;
        return GW_DCM_OK;
    } catch (const std::bad_alloc &) {
        fail(error, GW_DCM_NOMEM, "out of memory");
        return GW_DCM_NOMEM;
    } catch (...) {
        fail(error, GW_DCM_CORRUPT, "the lookup table cannot be read (internal error)");
        return GW_DCM_CORRUPT;
    }
}

extern "C" char *gw_dicom_uids_json(gw_dicom *dicom, const gw_deid_rule *rules, size_t count, gw_dicom_error *error) {
    clear(error);
    if (!dicom) {
        fail(error, GW_DCM_INVALID, "no file");
        return nullptr;
    }
    try {
        std::set<std::string> uids;
        collectUIDs(dicom->file.getDataset(), rules, count, uids, 0);
        std::string out = "[";
        bool first = true;
        for (const auto &uid : uids) {
            if (!first) out.push_back(',');
            first = false;
            appendString(out, uid);
        }
        out.push_back(']');
        return copyString(out);
    } catch (...) {
        fail(error, GW_DCM_NOMEM, "out of memory");
        return nullptr;
    }
}

extern "C" int gw_dicom_deidentify(gw_dicom *dicom, const gw_deid_rule *rules, size_t count, int removePrivate,
                                   const char *const *uidFrom, const char *const *uidTo, size_t uidCount,
                                   const char *const *words, size_t wordCount, gw_dicom_error *error) {
    clear(error);
    if (!dicom) {
        fail(error, GW_DCM_INVALID, "no file");
        return GW_DCM_INVALID;
    }
    try {
        DeidContext context{rules, count, removePrivate != 0, {}, words, wordCount};
        for (size_t i = 0; i < uidCount; i++) context.uids[uidFrom[i]] = uidTo[i];
        // Text is cleaned in UTF-8, the encoding of the identifying words (they come from the
        // attributes): a dataset in another character set is converted first, and the copy
        // declares ISO_IR 192.
        DcmDataset *dataset = dicom->file.getDataset();
        convertInPlace(dataset, Charset(), "", 0);
        int status = applyRules(dataset, context, error, 0);
        if (status != GW_DCM_OK) return status;
        OFString sop;
        DcmMetaInfo *meta = dicom->file.getMetaInfo();
        if (dicom->file.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, sop).good()) {
            meta->putAndInsertString(DCM_MediaStorageSOPInstanceUID, sop.c_str());
        }
        // Where and by whom the original was written identifies its site: not carried over.
        delete meta->remove(DCM_SourceApplicationEntityTitle);
        delete meta->remove(DCM_SendingApplicationEntityTitle);
        delete meta->remove(DCM_ReceivingApplicationEntityTitle);
        delete meta->remove(DCM_PrivateInformationCreatorUID);
        delete meta->remove(DCM_PrivateInformation);
        return GW_DCM_OK;
    } catch (const CharsetFailure &failure) {
        fail(error, failure.code, failure.message, failure.where);
        return failure.code;
    } catch (const std::bad_alloc &) {
        fail(error, GW_DCM_NOMEM, "out of memory");
        return GW_DCM_NOMEM;
    } catch (...) {
        fail(error, GW_DCM_CORRUPT, "the file cannot be de-identified (internal error)");
        return GW_DCM_CORRUPT;
    }
}

extern "C" int gw_dicom_set_string(gw_dicom *dicom, uint32_t tag, const char *value, gw_dicom_error *error) {
    clear(error);
    if (!dicom || !value) {
        fail(error, GW_DCM_INVALID, "no file");
        return GW_DCM_INVALID;
    }
    try {
        DcmTagKey key(static_cast<Uint16>(tag >> 16), static_cast<Uint16>(tag & 0xFFFF));
        OFCondition status = dicom->file.getDataset()->putAndInsertString(key, value);
        if (status.bad()) {
            fail(error, GW_DCM_INVALID, std::string("cannot set the attribute: ") + status.text(), describeTag(key));
            return GW_DCM_INVALID;
        }
        return GW_DCM_OK;
    } catch (...) {
        fail(error, GW_DCM_NOMEM, "out of memory");
        return GW_DCM_NOMEM;
    }
}

extern "C" int gw_dicom_add_deid_code(gw_dicom *dicom, const char *value, const char *scheme, const char *meaning,
                                      gw_dicom_error *error) {
    clear(error);
    if (!dicom || !value || !scheme || !meaning) {
        fail(error, GW_DCM_INVALID, "no file");
        return GW_DCM_INVALID;
    }
    try {
        DcmItem *item = nullptr;
        OFCondition status =
            dicom->file.getDataset()->findOrCreateSequenceItem(DCM_DeidentificationMethodCodeSequence, item, -2);
        if (status.good() && item) {
            status = item->putAndInsertString(DCM_CodeValue, value);
            if (status.good()) status = item->putAndInsertString(DCM_CodingSchemeDesignator, scheme);
            if (status.good()) status = item->putAndInsertString(DCM_CodeMeaning, meaning);
        }
        if (status.bad() || !item) {
            fail(error, GW_DCM_INVALID, std::string("cannot record the method: ") + status.text(),
                 describeTag(DCM_DeidentificationMethodCodeSequence));
            return GW_DCM_INVALID;
        }
        return GW_DCM_OK;
    } catch (...) {
        fail(error, GW_DCM_NOMEM, "out of memory");
        return GW_DCM_NOMEM;
    }
}

extern "C" int gw_dicom_write(gw_dicom *dicom, uint8_t **output, size_t *size, gw_dicom_error *error) {
    clear(error);
    if (!dicom || !output || !size) {
        fail(error, GW_DCM_INVALID, "no file");
        return GW_DCM_INVALID;
    }
    *output = nullptr;
    *size = 0;
    try {
        // DCMTK writes into a fixed buffer and returns EC_StreamNotifyClient whenever it is full:
        // each time the buffer is drained into `bytes` and the write resumes where it stopped.
        std::vector<uint8_t> bytes;
        std::vector<char> chunk(1 << 20);
        DcmOutputBufferStream stream(chunk.data(), static_cast<offile_off_t>(chunk.size()));
        DcmWriteCache cache;
        auto drain = [&] {
            void *data = nullptr;
            offile_off_t length = 0;
            stream.flushBuffer(data, length);
            if (data && length > 0) {
                const auto *begin = static_cast<const uint8_t *>(data);
                bytes.insert(bytes.end(), begin, begin + length);
            }
        };
        dicom->file.transferInit();
        OFCondition status = EC_StreamNotifyClient;
        while (status == EC_StreamNotifyClient) {
            status = dicom->file.write(stream, dicom->xfer, EET_ExplicitLength, &cache, EGL_recalcGL, EPD_noChange, 0,
                                       0, 0, EWM_updateMeta);
            drain();
        }
        dicom->file.transferEnd();
        // A deflated transfer syntax may hold compressed bytes back until flushed.
        for (int round = 0; status.good() && !stream.isFlushed() && round < 1 << 16; round++) {
            stream.flush();
            drain();
        }
        if (status.bad() || bytes.empty()) {
            fail(error, GW_DCM_INVALID,
                 std::string("cannot write the DICOM file: ") + (status.bad() ? status.text() : "nothing was written"),
                 dicom->transferSyntax);
            return GW_DCM_INVALID;
        }
        *output = static_cast<uint8_t *>(std::malloc(bytes.size()));
        if (!*output) {
            fail(error, GW_DCM_NOMEM, "out of memory");
            return GW_DCM_NOMEM;
        }
        std::memcpy(*output, bytes.data(), bytes.size());
        *size = bytes.size();
        return GW_DCM_OK;
    } catch (...) {
        dicom->file.transferEnd();
        fail(error, GW_DCM_NOMEM, "out of memory writing the DICOM file");
        return GW_DCM_NOMEM;
    }
}

extern "C" int gw_dicom_overlay_read(gw_dicom *dicom, uint32_t index, gw_dicom_overlay *overlay, gw_dicom_error *error) {
    clear(error);
    if (!dicom || !overlay || index > 15) {
        fail(error, GW_DCM_INVALID, "no such overlay");
        return GW_DCM_INVALID;
    }
    std::memset(overlay, 0, sizeof *overlay);
    try {
        DcmDataset *dataset = dicom->file.getDataset();
        Uint16 group = static_cast<Uint16>(0x6000 + 2 * index);
        DcmTagKey dataKey(group, 0x3000);
        DcmElement *data = nullptr;
        if (dataset->findAndGetElement(dataKey, data).bad() || !data || data->getLength() == 0) {
            fail(error, GW_DCM_INVALID, "no such overlay");
            return GW_DCM_INVALID;
        }
        std::string where = "(" + hex4(group) + ",";
        Uint16 rows = 0, columns = 0, bits = 1, position = 0;
        if (dataset->findAndGetUint16(DcmTagKey(group, 0x0010), rows).bad() ||
            dataset->findAndGetUint16(DcmTagKey(group, 0x0011), columns).bad() || rows == 0 || columns == 0) {
            fail(error, GW_DCM_CORRUPT, "the overlay has no OverlayRows and OverlayColumns", where + "0010) OverlayRows");
            return GW_DCM_CORRUPT;
        }
        dataset->findAndGetUint16(DcmTagKey(group, 0x0100), bits);
        dataset->findAndGetUint16(DcmTagKey(group, 0x0102), position);
        if (bits != 1 || position != 0) {
            fail(error, GW_DCM_UNSUPPORTED,
                 "overlays embedded in the pixel data (OverlayBitsAllocated " + std::to_string(bits) + ") are not supported",
                 where + "0100) OverlayBitsAllocated");
            return GW_DCM_UNSUPPORTED;
        }
        Sint16 originRow = 1, originColumn = 1;
        dataset->findAndGetSint16(DcmTagKey(group, 0x0050), originRow, 0);
        dataset->findAndGetSint16(DcmTagKey(group, 0x0050), originColumn, 1);
        Sint32 frames = 1;
        if (dataset->findAndGetSint32(DcmTagKey(group, 0x0015), frames).bad() || frames < 1) frames = 1;
        OFString type;
        dataset->findAndGetOFString(DcmTagKey(group, 0x0040), type);
        // OverlayLabel and OverlayDescription are text (LO): in UTF-8, like every attribute.
        Charset charset = charsetOf(dataset, Charset(), "");
        std::string label = textOf(dataset, DcmTagKey(group, 0x1500), charset);
        if (label.empty()) label = textOf(dataset, DcmTagKey(group, 0x0022), charset);
        size_t count = static_cast<size_t>(rows) * columns;
        Uint8 *bytes = nullptr;
        if (data->getVR() == EVR_OW) {
            Uint16 *words = nullptr;
            data->getUint16Array(words);
            bytes = reinterpret_cast<Uint8 *>(words);
        } else {
            data->getUint8Array(bytes);
        }
        if (!bytes || static_cast<size_t>(data->getLength()) * 8 < count) {
            fail(error, GW_DCM_TRUNCATED,
                 "the overlay data holds " + std::to_string(data->getLength()) + " bytes, " + std::to_string(rows) +
                     " x " + std::to_string(columns) + " bits need " + std::to_string((count + 7) / 8),
                 where + "3000) OverlayData");
            return GW_DCM_TRUNCATED;
        }
        overlay->data = static_cast<uint8_t *>(std::malloc(count));
        if (!overlay->data) {
            fail(error, GW_DCM_NOMEM, "out of memory");
            return GW_DCM_NOMEM;
        }
        // Bit i of the packed data (least significant bit first in each byte) is pixel i.
        for (size_t i = 0; i < count; i++) overlay->data[i] = (bytes[i >> 3] >> (i & 7)) & 1;
        overlay->rows = rows;
        overlay->columns = columns;
        overlay->origin_row = originRow;
        overlay->origin_column = originColumn;
        overlay->frames = static_cast<uint32_t>(frames);
        std::snprintf(overlay->type, sizeof overlay->type, "%s", type.c_str());
        copyUTF8(overlay->label, sizeof overlay->label, label);
        return GW_DCM_OK;
    } catch (const CharsetFailure &failure) {
        std::free(overlay->data);
        overlay->data = nullptr;
        fail(error, failure.code, failure.message, failure.where);
        return failure.code;
    } catch (const std::bad_alloc &) {
        fail(error, GW_DCM_NOMEM, "out of memory");
        return GW_DCM_NOMEM;
    } catch (...) {
        fail(error, GW_DCM_CORRUPT, "the overlay cannot be read (internal error)");
        return GW_DCM_CORRUPT;
    }
}
