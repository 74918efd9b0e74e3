// Overlay planes (60xx groups): their geometry, type and label, and their first frame unpacked to
// one byte a pixel.
#include "gw_dicom_internal.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace gw {

namespace {

/// Reads the plane's geometry, type and label into `overlay` (its data aside).
int readPlane(DcmDataset *dataset, Uint16 group, gw_dicom_overlay *overlay, gw_dicom_error *error) {
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
    overlay->rows = rows;
    overlay->columns = columns;
    overlay->origin_row = originRow;
    overlay->origin_column = originColumn;
    overlay->frames = static_cast<uint32_t>(frames);
    std::snprintf(overlay->type, sizeof overlay->type, "%s", type.c_str());
    copyUTF8(overlay->label, sizeof overlay->label, label);
    return GW_DCM_OK;
}

/// Unpacks the first frame of Overlay Data into one byte (0 or 1) a pixel.
int unpackBits(DcmElement *data, Uint16 group, gw_dicom_overlay *overlay, gw_dicom_error *error) {
    size_t count = static_cast<size_t>(overlay->rows) * overlay->columns;
    Uint8 *bytes = nullptr;
    elementBytes(data, data->getVR() == EVR_OW, bytes);
    if (!bytes || static_cast<size_t>(data->getLength()) * 8 < count) {
        fail(error, GW_DCM_TRUNCATED,
             "the overlay data holds " + std::to_string(data->getLength()) + " bytes, " +
                 std::to_string(overlay->rows) + " x " + std::to_string(overlay->columns) + " bits need " +
                 std::to_string((count + 7) / 8),
             "(" + hex4(group) + ",3000) OverlayData");
        return GW_DCM_TRUNCATED;
    }
    overlay->data = static_cast<uint8_t *>(std::malloc(count));
    if (!overlay->data) {
        fail(error, GW_DCM_NOMEM, "out of memory");
        return GW_DCM_NOMEM;
    }
    // Bit i of the packed data (least significant bit first in each byte) is pixel i.
    for (size_t i = 0; i < count; i++) overlay->data[i] = (bytes[i >> 3] >> (i & 7)) & 1;
    return GW_DCM_OK;
}

}  // namespace

}  // namespace gw

using namespace gw;

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
        DcmElement *data = nullptr;
        if (dataset->findAndGetElement(DcmTagKey(group, 0x3000), data).bad() || !data || data->getLength() == 0) {
            fail(error, GW_DCM_INVALID, "no such overlay");
            return GW_DCM_INVALID;
        }
        int status = readPlane(dataset, group, overlay, error);
        if (status == GW_DCM_OK) status = unpackBits(data, group, overlay, error);
        if (status != GW_DCM_OK) std::memset(overlay, 0, sizeof *overlay);
        return status;
    } catch (...) {
        std::free(overlay->data);
        std::memset(overlay, 0, sizeof *overlay);
        return failFromException(error, "out of memory", "the overlay cannot be read (internal error)");
    }
}
