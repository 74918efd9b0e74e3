// Pixel data: the layout the attributes describe, checked once, then one decoder per family of
// transfer syntaxes. Native (uncompressed) data is read as stored; JPEG 2000 goes through OpenJPEG
// (jpeg2000.cpp); RLE, JPEG (baseline, extended, lossless) and JPEG-LS through the DCMTK codecs
// registered when a file is opened, on a copy of the dataset so that the attributes stay those of
// the file.
#include "gw_dicom_internal.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace gw {

namespace {

/// Finds the Pixel Data element; without it, says why (float pixels, a file cut before its
/// pixels, or no image at all).
int findPixelData(DcmDataset *dataset, DcmElement *&pixelElement, gw_dicom_error *error) {
    if (dataset->findAndGetElement(DCM_PixelData, pixelElement).good() && pixelElement) return GW_DCM_OK;
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

/// Reads the image pixel attributes into `layout`, failing on the first one missing.
int readLayout(DcmDataset *dataset, PixelLayout &layout, gw_dicom_error *error) {
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
    layout.rows = getU16(dataset, DCM_Rows, 0);
    layout.columns = getU16(dataset, DCM_Columns, 0);
    layout.samples = getU16(dataset, DCM_SamplesPerPixel, 1);
    layout.bitsAllocated = getU16(dataset, DCM_BitsAllocated, 0);
    layout.bitsStored = getU16(dataset, DCM_BitsStored, static_cast<Uint16>(layout.bitsAllocated));
    layout.highBit = getU16(dataset, DCM_HighBit, static_cast<Uint16>(layout.bitsStored - 1));
    layout.representation = getU16(dataset, DCM_PixelRepresentation, 0);
    layout.planar = getU16(dataset, DCM_PlanarConfiguration, 0);
    OFString photometric;
    dataset->findAndGetOFString(DCM_PhotometricInterpretation, photometric);
    layout.photometric = photometric.c_str();
    Sint32 frameCount = 1;
    if (dataset->tagExistsWithValue(DCM_NumberOfFrames)) {
        if (dataset->findAndGetSint32(DCM_NumberOfFrames, frameCount).bad() || frameCount < 1) {
            fail(error, GW_DCM_CORRUPT, "NumberOfFrames is not a positive number", "(0028,0008) NumberOfFrames");
            return GW_DCM_CORRUPT;
        }
    }
    layout.frameCount = static_cast<uint32_t>(frameCount);
    return GW_DCM_OK;
}

/// Checks that Groundwork can hold and render the layout, and computes its sizes.
int checkLayout(PixelLayout &layout, gw_dicom_error *error) {
    if (layout.rows == 0 || layout.columns == 0) {
        fail(error, GW_DCM_CORRUPT, "Rows and Columns must be positive", "(0028,0010) Rows");
        return GW_DCM_CORRUPT;
    }
    uint32_t bitsAllocated = layout.bitsAllocated, bitsStored = layout.bitsStored, highBit = layout.highBit;
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
    if (layout.samples != 1 && layout.samples != 3) {
        fail(error, GW_DCM_UNSUPPORTED,
             "SamplesPerPixel " + std::to_string(layout.samples) + " is not supported (1 or 3)",
             "(0028,0002) SamplesPerPixel");
        return GW_DCM_UNSUPPORTED;
    }
    if (layout.representation > 1 || layout.planar > 1) {
        fail(error, GW_DCM_CORRUPT, "PixelRepresentation and PlanarConfiguration must be 0 or 1",
             "(0028,0103) PixelRepresentation");
        return GW_DCM_CORRUPT;
    }
    layout.pixelCount = static_cast<uint64_t>(layout.rows) * layout.columns;
    layout.frameBytes = layout.pixelCount * layout.samples * (bitsAllocated / 8);
    layout.total = layout.frameBytes * layout.frameCount;
    if (layout.total > (uint64_t(1) << 34)) {
        fail(error, GW_DCM_UNSUPPORTED, "the pixel data is larger than 16 GiB", "(7FE0,0010) PixelData");
        return GW_DCM_UNSUPPORTED;
    }
    return GW_DCM_OK;
}

/// Uncompressed pixel data (implicit and explicit VR little endian, explicit big endian, deflated):
/// copied as stored. YBR_FULL_422 holds two samples a pixel.
int decodeNative(gw_dicom *dicom, DcmElement *pixelElement, PixelLayout &layout, gw_dicom_error *error) {
    bool subsampled = layout.photometric == "YBR_FULL_422" && layout.samples == 3;
    if (subsampled) {
        if (layout.columns % 2 != 0) {
            fail(error, GW_DCM_CORRUPT, "YBR_FULL_422 needs an even number of Columns", "(0028,0011) Columns");
            return GW_DCM_CORRUPT;
        }
        layout.frameBytes = layout.pixelCount * 2 * (layout.bitsAllocated / 8);
        layout.total = layout.frameBytes * layout.frameCount;
    }
    Uint32 length = pixelElement->getLength();
    if (length < layout.total) {
        fail(error, GW_DCM_TRUNCATED,
             "the pixel data holds " + std::to_string(length) + " bytes, " + std::to_string(layout.frameCount) +
                 " frame(s) of " + std::to_string(layout.rows) + " x " + std::to_string(layout.columns) + " need " +
                 std::to_string(layout.total),
             "(7FE0,0010) PixelData");
        return GW_DCM_TRUNCATED;
    }
    DcmEVR vr = pixelElement->getVR();
    Uint8 *data = nullptr;
    OFCondition status = elementBytes(pixelElement, vr == EVR_OW || (vr != EVR_OB && layout.bitsAllocated > 8), data);
    if (status.bad() || !data) {
        fail(error, GW_DCM_CORRUPT, std::string("the pixel data cannot be read: ") + status.text(),
             "(7FE0,0010) PixelData");
        return GW_DCM_CORRUPT;
    }
    dicom->decoded.assign(data, data + layout.total);
    // 32-bit samples of a big-endian file arrive as swapped 16-bit words: put them in order.
    if (layout.bitsAllocated == 32 && vr == EVR_OW && dicom->xfer == EXS_BigEndianExplicit) {
        for (size_t i = 0; i + 3 < dicom->decoded.size(); i += 4) {
            std::swap(dicom->decoded[i], dicom->decoded[i + 2]);
            std::swap(dicom->decoded[i + 1], dicom->decoded[i + 3]);
        }
    }
    return GW_DCM_OK;
}

/// The failure when DCMTK cannot decode the encapsulated data: an unsupported transfer syntax
/// (no codec for it) or corrupt compressed data.
int refuseEncapsulated(const gw_dicom *dicom, OFCondition status, gw_dicom_error *error) {
    DcmXfer xfer(dicom->xfer);
    const std::string uid = printable(dicom->transferSyntax);
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

/// RLE Lossless (dcmdata's RLE decoder), JPEG baseline, extended and lossless (dcmjpeg) and JPEG-LS
/// (dcmjpls): the codec registered for the transfer syntax decodes a copy of the dataset to explicit
/// VR little endian, so that the attributes (photometric interpretation, planar configuration) stay
/// those of the file for everything else that reads them. Any other encapsulated syntax has no codec
/// and is refused. The layout takes the decoded photometric interpretation, planar configuration and
/// BitsAllocated.
int decodeWithDCMTKCodec(gw_dicom *dicom, PixelLayout &layout, gw_dicom_error *error) {
    std::unique_ptr<DcmDataset> copy(new DcmDataset(*dicom->file.getDataset()));
    OFCondition status = copy->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
    if (status.bad() || !copy->canWriteXfer(EXS_LittleEndianExplicit)) return refuseEncapsulated(dicom, status, error);
    DcmElement *decodedElement = nullptr;
    if (copy->findAndGetElement(DCM_PixelData, decodedElement).bad() || !decodedElement) {
        fail(error, GW_DCM_CORRUPT, "the decoded pixel data is missing", "(7FE0,0010) PixelData");
        return GW_DCM_CORRUPT;
    }
    Uint8 *data = nullptr;
    status = elementBytes(decodedElement, decodedElement->getVR() == EVR_OW, data);
    OFString decodedPhotometric;
    copy->findAndGetOFString(DCM_PhotometricInterpretation, decodedPhotometric);
    layout.photometric = decodedPhotometric.c_str();
    layout.planar = getU16(copy.get(), DCM_PlanarConfiguration, 0);
    uint32_t decodedBits = getU16(copy.get(), DCM_BitsAllocated, static_cast<Uint16>(layout.bitsAllocated));
    if (decodedBits != layout.bitsAllocated) {
        layout.bitsAllocated = decodedBits;
        layout.frameBytes = layout.pixelCount * layout.samples * (layout.bitsAllocated / 8);
        layout.total = layout.frameBytes * layout.frameCount;
    }
    if (status.bad() || !data || decodedElement->getLength() < layout.total) {
        fail(error, GW_DCM_TRUNCATED,
             "the decoded pixel data holds " + std::to_string(decodedElement->getLength()) + " bytes, " +
                 std::to_string(layout.total) + " expected",
             "(7FE0,0010) PixelData");
        return GW_DCM_TRUNCATED;
    }
    dicom->decoded.assign(data, data + layout.total);
    return GW_DCM_OK;
}

/// Records the decoded frames on the file and describes them to the caller.
void publish(gw_dicom *dicom, const PixelLayout &layout, gw_dicom_pixels *pixels) {
    dicom->frameBytes = static_cast<size_t>(layout.frameBytes);
    dicom->frames = layout.frameCount;
    pixels->rows = layout.rows;
    pixels->columns = layout.columns;
    pixels->frames = layout.frameCount;
    pixels->samples_per_pixel = layout.samples;
    pixels->bits_allocated = layout.bitsAllocated;
    pixels->bits_stored = layout.bitsStored;
    pixels->high_bit = layout.highBit;
    pixels->pixel_representation = layout.representation;
    pixels->planar_configuration = layout.planar;
    std::snprintf(pixels->photometric, sizeof pixels->photometric, "%s", layout.photometric.c_str());
    pixels->frame_bytes = dicom->frameBytes;
}

/// Checks the layout, then hands the pixel data to the decoder of its transfer syntax's family.
int decodeFrames(gw_dicom *dicom, gw_dicom_pixels *pixels, gw_dicom_error *error) {
    DcmDataset *dataset = dicom->file.getDataset();
    DcmElement *pixelElement = nullptr;
    PixelLayout layout;
    int status = findPixelData(dataset, pixelElement, error);
    if (status == GW_DCM_OK) status = readLayout(dataset, layout, error);
    if (status == GW_DCM_OK) status = checkLayout(layout, error);
    if (status != GW_DCM_OK) return status;
    if (!DcmXfer(dicom->xfer).isEncapsulated()) {
        status = decodeNative(dicom, pixelElement, layout, error);
    } else if (isJPEG2000(dicom->transferSyntax)) {
        status = decodeJPEG2000(dicom, pixelElement, layout, error);
    } else {
        status = decodeWithDCMTKCodec(dicom, layout, error);
    }
    if (status == GW_DCM_OK) publish(dicom, layout, pixels);
    return status;
}

}  // namespace

}  // namespace gw

using namespace gw;

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
    } catch (...) {
        return failFromException(error, "out of memory decoding the pixel data",
                                 "the pixel data cannot be decoded (internal error)", "(7FE0,0010) PixelData");
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
        OFCondition status = elementBytes(element, element->getVR() == EVR_OW, data);
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
    } catch (...) {
        return failFromException(error, "out of memory reading the pixel data",
                                 "the pixel data cannot be read (internal error)", "(7FE0,0010) PixelData");
    }
}

extern "C" const uint8_t *gw_dicom_frame(const gw_dicom *dicom, uint32_t index) {
    if (!dicom || index >= dicom->frames || dicom->decoded.size() < (static_cast<size_t>(index) + 1) * dicom->frameBytes)
        return nullptr;
    return dicom->decoded.data() + static_cast<size_t>(index) * dicom->frameBytes;
}

