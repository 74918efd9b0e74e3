// Character sets: text reaches Swift (and de-identification) in UTF-8, converted from the
// Specific Character Set (0008,0005) in force (PS3.5 6.1), through DCMTK's converter or, for
// DICOM's Japanese ISO 2022 sets, through EUC-JP.
#include "gw_dicom_internal.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcvr.h>
#include <dcmtk/ofstd/ofchrenc.h>

#include <algorithm>
#include <new>

namespace gw {

namespace {

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

}  // namespace

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
                             "the text is in the character set '" + printable(result.value) +
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
                         "the character set '" + printable(result.value) + "' cannot be converted to UTF-8 (" + status.text() + ")",
                         where};
}

namespace {

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
                             "the text is not valid in the character set '" + printable(charset.value) +
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

}  // namespace

bool needsConversion(DcmElement *element, const Charset &charset) {
    return charset.needsConversion() && element->getLength() > 0 && element->isAffectedBySpecificCharacterSet() &&
           element->ident() != EVR_SQ;
}

std::unique_ptr<DcmElement> convertedCopy(DcmElement *element, const Charset &charset, const std::string &path) {
    OFString text = utf8Value(element, charset, path);
    std::unique_ptr<DcmElement> copy(static_cast<DcmElement *>(element->clone()));
    if (!copy) throw std::bad_alloc();
    storeText(copy.get(), text, path);
    return copy;
}

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

}  // namespace gw
