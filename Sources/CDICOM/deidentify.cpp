// De-identification: a profile's rules (remove, empty, dummy, keep, clean, replace UID) applied at
// every depth of nesting, the UIDs to replace collected beforehand, and the edits that record it
// (a string attribute, a Deidentification Method Code Sequence item).
#include "gw_dicom_internal.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace gw {

namespace {

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

/// Replaces every UID of a UI element through the context's pairs (a UID without one is an error).
int replaceUIDs(DcmElement *element, const DeidContext &context, OFCondition &status, gw_dicom_error *error) {
    std::string replaced;
    for (unsigned long v = 0; v < element->getVM(); v++) {
        OFString value;
        element->getOFString(value, v, OFTrue);
        auto found = context.uids.find(value.c_str());
        if (found == context.uids.end()) {
            fail(error, GW_DCM_INVALID, "no replacement for UID " + printable(value.c_str()),
                 describeTag(element->getTag()));
            return GW_DCM_INVALID;
        }
        if (v) replaced += "\\";
        replaced += found->second;
    }
    status = element->putString(replaced.c_str());
    return GW_DCM_OK;
}

/// Applies one rule's action to an element of `item` (not a sequence to descend into). Removing
/// deletes the element.
int applyAction(DcmItem *item, DcmElement *element, const gw_deid_rule *rule, const DeidContext &context,
                gw_dicom_error *error) {
    char action = rule ? rule->action : 'K';
    bool structured = element->ident() == EVR_SQ || isBinaryVR(element->ident());
    OFCondition status = EC_Normal;
    switch (action) {
    case 'X':
        delete item->remove(element);
        return GW_DCM_OK;
    case 'Z':
        if (element->ident() == EVR_SQ) {
            static_cast<DcmSequenceOfItems *>(element)->clear();
        } else {
            status = element->putString("");
        }
        break;
    case 'D':
        if (structured) {
            delete item->remove(element);
            return GW_DCM_OK;
        }
        status = element->putString((rule->value ? std::string(rule->value) : dummyFor(element->ident())).c_str());
        break;
    case 'C': {
        if (structured) {
            delete item->remove(element);
            return GW_DCM_OK;
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
            return GW_DCM_OK;
        }
        int result = replaceUIDs(element, context, status, error);
        if (result != GW_DCM_OK) return result;
        break;
    }
    default:
        break;
    }
    if (status.bad()) {
        fail(error, GW_DCM_CORRUPT, std::string("cannot change the attribute: ") + status.text(),
             describeTag(element->getTag()));
        return GW_DCM_CORRUPT;
    }
    return GW_DCM_OK;
}

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
        int status = GW_DCM_OK;
        if (element->ident() == EVR_SQ && action != 'X' && action != 'Z') {
            auto *sequence = static_cast<DcmSequenceOfItems *>(element);
            for (unsigned long k = 0; k < sequence->card() && status == GW_DCM_OK; k++) {
                status = applyRules(sequence->getItem(k), context, error, depth + 1);
            }
        } else {
            status = applyAction(item, element, rule, context, error);
        }
        if (status != GW_DCM_OK) return status;
    }
    return GW_DCM_OK;
}

}  // namespace

}  // namespace gw

using namespace gw;

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
        if (dicom->file.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, sop).good() && !sop.empty()) {
            meta->putAndInsertString(DCM_MediaStorageSOPInstanceUID, sop.c_str());
        } else if (meta->findAndGetOFString(DCM_MediaStorageSOPInstanceUID, sop).good() && !sop.empty()) {
            // Without a SOP Instance UID in the dataset the original's would stay in the meta
            // information: replaced like the dataset's UIDs when it is one of them, else removed
            // (the file is then written with a UID derived from its de-identified dataset).
            auto found = context.uids.find(sop.c_str());
            if (found != context.uids.end()) {
                meta->putAndInsertString(DCM_MediaStorageSOPInstanceUID, found->second.c_str());
            } else {
                delete meta->remove(DCM_MediaStorageSOPInstanceUID);
            }
        }
        // Where and by whom the original was written identifies its site: not carried over.
        delete meta->remove(DCM_SourceApplicationEntityTitle);
        delete meta->remove(DCM_SendingApplicationEntityTitle);
        delete meta->remove(DCM_ReceivingApplicationEntityTitle);
        delete meta->remove(DCM_PrivateInformationCreatorUID);
        delete meta->remove(DCM_PrivateInformation);
        return GW_DCM_OK;
    } catch (...) {
        return failFromException(error, "out of memory", "the file cannot be de-identified (internal error)");
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

