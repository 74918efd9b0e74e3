// Lookup tables: the Modality LUT, a VOI LUT and the palette colour tables (plain or segmented),
// as their descriptor says and their data holds.
#include "gw_dicom_internal.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <cstdlib>
#include <cstring>

namespace gw {

namespace {

/// Where a table is: the item holding it, its descriptor and data attributes, and the path of the
/// item for messages.
struct TablePlace {
    DcmItem *item = nullptr;
    DcmTagKey descriptorKey;
    DcmTagKey dataKey;
    std::string place;
    bool segmented = false;
};

/// Finds table `which` (the `itemIndex`-th item of a LUT sequence, or a palette colour table).
int locateTable(DcmDataset *dataset, int which, uint32_t itemIndex, TablePlace &table, gw_dicom_error *error) {
    table.item = dataset;
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
        table.item = found;
        table.descriptorKey = DCM_LUTDescriptor;
        table.dataKey = DCM_LUTData;
        table.place = describeTag(sequenceKey) + " > ";
        return GW_DCM_OK;
    }
    case GW_LUT_RED:
        table.descriptorKey = DCM_RedPaletteColorLookupTableDescriptor;
        table.dataKey = DCM_RedPaletteColorLookupTableData;
        break;
    case GW_LUT_GREEN:
        table.descriptorKey = DCM_GreenPaletteColorLookupTableDescriptor;
        table.dataKey = DCM_GreenPaletteColorLookupTableData;
        break;
    case GW_LUT_BLUE:
        table.descriptorKey = DCM_BluePaletteColorLookupTableDescriptor;
        table.dataKey = DCM_BluePaletteColorLookupTableData;
        break;
    default:
        fail(error, GW_DCM_INVALID, "no such lookup table");
        return GW_DCM_INVALID;
    }
    // A palette colour table: its plain data, else its segmented data.
    DcmTagKey segmentedKey = which == GW_LUT_RED     ? DCM_SegmentedRedPaletteColorLookupTableData
                             : which == GW_LUT_GREEN ? DCM_SegmentedGreenPaletteColorLookupTableData
                                                     : DCM_SegmentedBluePaletteColorLookupTableData;
    table.segmented = !table.item->tagExists(table.dataKey) && table.item->tagExists(segmentedKey);
    if (table.segmented) table.dataKey = segmentedKey;
    if (!table.item->tagExists(table.dataKey)) {
        fail(error, GW_DCM_CORRUPT, "the palette colour lookup table is missing", describeTag(table.dataKey));
        return GW_DCM_CORRUPT;
    }
    return GW_DCM_OK;
}

/// Reads the three descriptor values. The descriptor is US or SS (its first mapped value may be
/// negative): the bits are read either way.
int readDescriptor(const TablePlace &table, Uint16 descriptor[3], gw_dicom_error *error) {
    DcmElement *element = nullptr;
    if (table.item->findAndGetElement(table.descriptorKey, element).bad() || !element || element->getVM() != 3) {
        fail(error, GW_DCM_CORRUPT, "the LUT descriptor must have 3 values",
             table.place + describeTag(table.descriptorKey));
        return GW_DCM_CORRUPT;
    }
    for (unsigned long k = 0; k < 3; k++) {
        descriptor[k] = 0;
        if (element->getUint16(descriptor[k], k).bad()) {
            Sint16 value = 0;
            element->getSint16(value, k);
            descriptor[k] = static_cast<Uint16>(value);
        }
    }
    return GW_DCM_OK;
}

/// Copies the words of a segmented palette table as they are (the caller expands them).
int copySegments(const Uint16 *words, unsigned long length, const TablePlace &table, gw_dicom_lut *lut,
                 gw_dicom_error *error) {
    if (!words || length < 4) {
        fail(error, GW_DCM_CORRUPT, "the segmented lookup table data is too short", describeTag(table.dataKey));
        return GW_DCM_CORRUPT;
    }
    uint32_t count = static_cast<uint32_t>(length / 2);
    lut->data = static_cast<uint16_t *>(std::malloc(sizeof(uint16_t) * count));
    if (!lut->data) {
        fail(error, GW_DCM_NOMEM, "out of memory");
        return GW_DCM_NOMEM;
    }
    std::memcpy(lut->data, words, sizeof(uint16_t) * count);
    lut->segmented = 1;
    lut->length = count;
    return GW_DCM_OK;
}

/// Copies `entries` values: bytes (OB), words, or 8-bit entries packed two a word.
int copyEntries(const Uint8 *bytes, const Uint16 *words, unsigned long length, uint32_t entries, Uint16 bits,
                const TablePlace &table, gw_dicom_lut *lut, gw_dicom_error *error) {
    lut->data = static_cast<uint16_t *>(std::malloc(sizeof(uint16_t) * entries));
    if (!lut->data) {
        fail(error, GW_DCM_NOMEM, "out of memory");
        return GW_DCM_NOMEM;
    }
    if (bytes && length >= entries) {
        for (uint32_t i = 0; i < entries; i++) lut->data[i] = bytes[i];
    } else if (words && length / 2 >= entries) {
        for (uint32_t i = 0; i < entries; i++) lut->data[i] = words[i];
    } else if (words && bits == 8 && length >= entries) {
        const auto *packed = reinterpret_cast<const uint8_t *>(words);
        for (uint32_t i = 0; i < entries; i++) lut->data[i] = packed[i];
    } else {
        std::free(lut->data);
        lut->data = nullptr;
        fail(error, GW_DCM_CORRUPT,
             "the LUT data holds " + std::to_string(length) + " bytes for " + std::to_string(entries) + " entries",
             table.place + describeTag(table.dataKey));
        return GW_DCM_CORRUPT;
    }
    lut->length = entries;
    return GW_DCM_OK;
}

/// Reads the table's descriptor and data into `lut`.
int readTable(const TablePlace &table, int pixelSigned, gw_dicom_lut *lut, gw_dicom_error *error) {
    Uint16 descriptor[3];
    int status = readDescriptor(table, descriptor, error);
    if (status != GW_DCM_OK) return status;
    uint32_t entries = descriptor[0] == 0 ? 65536u : descriptor[0];
    int32_t first = pixelSigned ? static_cast<int32_t>(static_cast<int16_t>(descriptor[1]))
                                : static_cast<int32_t>(descriptor[1]);
    DcmElement *dataElement = nullptr;
    if (table.item->findAndGetElement(table.dataKey, dataElement).bad() || !dataElement) {
        fail(error, GW_DCM_CORRUPT, "the LUT data is missing", table.place + describeTag(table.dataKey));
        return GW_DCM_CORRUPT;
    }
    unsigned long length = dataElement->getLength();
    Uint8 *bytes = nullptr;
    Uint16 *words = nullptr;
    if (dataElement->getVR() == EVR_OB) {
        dataElement->getUint8Array(bytes);
    } else {
        dataElement->getUint16Array(words);
    }
    status = table.segmented ? copySegments(words, length, table, lut, error)
                             : copyEntries(bytes, words, length, entries, descriptor[2], table, lut, error);
    if (status != GW_DCM_OK) return status;
    lut->entries = entries;
    lut->first_mapped = first;
    lut->bits = descriptor[2];
    return GW_DCM_OK;
}

}  // namespace

}  // namespace gw

using namespace gw;

extern "C" int gw_dicom_lut_read(gw_dicom *dicom, int which, uint32_t itemIndex, int pixelSigned, gw_dicom_lut *lut,
                                 gw_dicom_error *error) {
    clear(error);
    if (!dicom || !lut) {
        fail(error, GW_DCM_INVALID, "no file");
        return GW_DCM_INVALID;
    }
    std::memset(lut, 0, sizeof *lut);
    try {
        TablePlace table;
        int status = locateTable(dicom->file.getDataset(), which, itemIndex, table, error);
        if (status != GW_DCM_OK) return status;
        return readTable(table, pixelSigned, lut, error);
    } catch (...) {
        return failFromException(error, "out of memory", "the lookup table cannot be read (internal error)");
    }
}
