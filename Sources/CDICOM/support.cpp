// Failures, tag names and small copies shared by every file of CDICOM.
#include "gw_dicom_internal.h"

#include <dcmtk/dcmdata/dctag.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

namespace gw {

void fail(gw_dicom_error *error, int code, const std::string &message, const std::string &where) {
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

std::string hex4(unsigned value) {
    char text[8];
    std::snprintf(text, sizeof text, "%04X", value & 0xFFFF);
    return text;
}

std::string printable(const std::string &text) {
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if (c >= 0x20 && c < 0x7F) {
            out.push_back(static_cast<char>(c));
        } else {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02X", c);
            out += escaped;
        }
    }
    return out;
}

std::string describeTag(const DcmTagKey &key) {
    std::string text = "(" + hex4(key.getGroup()) + "," + hex4(key.getElement()) + ")";
    DcmTag tag(key);
    const char *name = tag.getTagName();
    if (name && std::strcmp(name, DcmTag_ERROR_TagName) != 0) text += std::string(" ") + name;
    return text;
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

Uint16 getU16(DcmItem *item, const DcmTagKey &key, Uint16 fallback) {
    Uint16 value = fallback;
    if (item->findAndGetUint16(key, value).bad()) return fallback;
    return value;
}

OFCondition elementBytes(DcmElement *element, bool asWords, Uint8 *&data) {
    data = nullptr;
    if (asWords) {
        Uint16 *words = nullptr;
        OFCondition status = element->getUint16Array(words);
        data = reinterpret_cast<Uint8 *>(words);
        return status;
    }
    return element->getUint8Array(data);
}

int failFromException(gw_dicom_error *error, const std::string &outOfMemory, const std::string &internal,
                      const std::string &where) {
    try {
        throw;
    } catch (const CharsetFailure &failure) {
        fail(error, failure.code, failure.message, failure.where);
        return failure.code;
    } catch (const std::bad_alloc &) {
        fail(error, GW_DCM_NOMEM, outOfMemory, where);
        return GW_DCM_NOMEM;
    } catch (...) {
        fail(error, GW_DCM_CORRUPT, internal, where);
        return GW_DCM_CORRUPT;
    }
}

char *copyString(const std::string &text) {
    char *result = static_cast<char *>(std::malloc(text.size() + 1));
    if (!result) return nullptr;
    std::memcpy(result, text.data(), text.size());
    result[text.size()] = 0;
    return result;
}

void copyUTF8(char *buffer, size_t capacity, const std::string &text) {
    size_t length = std::min(text.size(), capacity - 1);
    if (length < text.size()) {
        while (length > 0 && (static_cast<unsigned char>(text[length]) & 0xC0) == 0x80) length--;
    }
    std::memcpy(buffer, text.data(), length);
    buffer[length] = 0;
}

}  // namespace gw
