// JPEG 2000 pixel data through OpenJPEG: the fragments of the encapsulated pixel data grouped into
// one codestream per frame, each decoded from memory into little-endian interleaved samples.
#include "gw_dicom_internal.h"

#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <openjpeg-2.5/openjpeg.h>

#include <cstring>

namespace gw {

namespace {

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

/// One decoding: the memory the stream reads, OpenJPEG's first error message, and the handles,
/// released in reverse order.
struct OPJDecoding {
    MemoryStream memory{nullptr, 0, 0};
    std::string message;
    opj_stream_t *stream = nullptr;
    opj_codec_t *codec = nullptr;
    opj_image_t *image = nullptr;
    ~OPJDecoding() {
        if (image) opj_image_destroy(image);
        if (codec) opj_destroy_codec(codec);
        if (stream) opj_stream_destroy(stream);
    }
};

/// Reads the codestream (or JP2 file) of frame `frame` into `opj.image`.
int readImage(const uint8_t *data, size_t size, uint32_t frame, OPJDecoding &opj, gw_dicom_error *error) {
    std::string where = "(7FE0,0010) PixelData, frame " + std::to_string(frame + 1);
    if (size < 12) {
        fail(error, GW_DCM_CORRUPT, "the JPEG 2000 data of frame " + std::to_string(frame + 1) + " is too short",
             where);
        return GW_DCM_CORRUPT;
    }
    OPJ_CODEC_FORMAT format = OPJ_CODEC_J2K;
    static const uint8_t jp2Signature[] = {0, 0, 0, 0x0C, 'j', 'P', ' ', ' '};
    if (std::memcmp(data, jp2Signature, sizeof jp2Signature) == 0) format = OPJ_CODEC_JP2;
    opj.memory = MemoryStream{data, size, 0};
    opj.stream = opj_stream_create(OPJ_J2K_STREAM_CHUNK_SIZE, OPJ_TRUE);
    opj.codec = opj_create_decompress(format);
    if (!opj.stream || !opj.codec) {
        fail(error, GW_DCM_NOMEM, "out of memory starting the JPEG 2000 decoder", where);
        return GW_DCM_NOMEM;
    }
    opj_stream_set_user_data(opj.stream, &opj.memory, nullptr);
    opj_stream_set_user_data_length(opj.stream, size);
    opj_stream_set_read_function(opj.stream, streamRead);
    opj_stream_set_skip_function(opj.stream, streamSkip);
    opj_stream_set_seek_function(opj.stream, streamSeek);
    opj_set_error_handler(opj.codec, opjError, &opj.message);
    opj_set_warning_handler(opj.codec, opjQuiet, nullptr);
    opj_set_info_handler(opj.codec, opjQuiet, nullptr);
    opj_dparameters_t parameters;
    opj_set_default_decoder_parameters(&parameters);
    if (!opj_setup_decoder(opj.codec, &parameters) || !opj_read_header(opj.stream, opj.codec, &opj.image) ||
        !opj_decode(opj.codec, opj.stream, opj.image) || !opj_end_decompress(opj.codec, opj.stream)) {
        fail(error, GW_DCM_CORRUPT,
             "the JPEG 2000 data of frame " + std::to_string(frame + 1) +
                 " cannot be decoded: " + (opj.message.empty() ? std::string("OpenJPEG failed") : opj.message),
             where);
        return GW_DCM_CORRUPT;
    }
    return GW_DCM_OK;
}

/// Checks that the decoded components are the image the attributes describe.
int checkComponents(const opj_image_t *image, const PixelLayout &layout, gw_dicom_error *error) {
    if (image->numcomps != layout.samples) {
        fail(error, GW_DCM_CORRUPT,
             "the JPEG 2000 data has " + std::to_string(image->numcomps) + " components, SamplesPerPixel says " +
                 std::to_string(layout.samples),
             "(0028,0002) SamplesPerPixel");
        return GW_DCM_CORRUPT;
    }
    for (uint32_t c = 0; c < layout.samples; c++) {
        const opj_image_comp_t &component = image->comps[c];
        if (component.w != layout.columns || component.h != layout.rows || component.dx != 1 || component.dy != 1 ||
            !component.data) {
            fail(error, GW_DCM_CORRUPT,
                 "the JPEG 2000 data is " + std::to_string(component.w) + " x " + std::to_string(component.h) +
                     ", Rows and Columns say " + std::to_string(layout.columns) + " x " + std::to_string(layout.rows),
                 "(0028,0010) Rows");
            return GW_DCM_CORRUPT;
        }
        if (component.prec > layout.bitsAllocated) {
            fail(error, GW_DCM_CORRUPT,
                 "the JPEG 2000 data has " + std::to_string(component.prec) + "-bit samples, BitsAllocated is " +
                     std::to_string(layout.bitsAllocated),
                 "(0028,0100) BitsAllocated");
            return GW_DCM_CORRUPT;
        }
    }
    return GW_DCM_OK;
}

/// Writes the components into `out` as little-endian samples of BitsAllocated bits, interleaved.
void copySamples(const opj_image_t *image, const PixelLayout &layout, uint8_t *out) {
    size_t pixels = static_cast<size_t>(layout.rows) * layout.columns;
    size_t bytesPerSample = layout.bitsAllocated / 8;
    uint32_t samples = layout.samples;
    for (uint32_t c = 0; c < samples; c++) {
        const OPJ_INT32 *source = image->comps[c].data;
        for (size_t p = 0; p < pixels; p++) {
            uint32_t value = static_cast<uint32_t>(source[p]);
            uint8_t *target = out + (p * samples + c) * bytesPerSample;
            for (size_t b = 0; b < bytesPerSample; b++) target[b] = static_cast<uint8_t>(value >> (8 * b));
        }
    }
}

/// Decodes one JPEG 2000 codestream (or JP2 file) into `out`.
int decodeFrame(const std::vector<uint8_t> &codestream, const PixelLayout &layout, uint8_t *out, uint32_t frame,
                gw_dicom_error *error) {
    OPJDecoding opj;
    int status = readImage(codestream.data(), codestream.size(), frame, opj, error);
    if (status != GW_DCM_OK) return status;
    status = checkComponents(opj.image, layout, error);
    if (status != GW_DCM_OK) return status;
    copySamples(opj.image, layout, out);
    return GW_DCM_OK;
}

/// The fragments (items 1... of the pixel sequence) of each frame: one each, all of them for one
/// frame, or as the basic offset table (item 0) says.
int groupFragments(DcmPixelSequence *sequence, uint32_t frameCount, std::vector<std::vector<unsigned long>> &groups,
                   gw_dicom_error *error) {
    unsigned long fragments = sequence->card();
    if (fragments < 2) {
        fail(error, GW_DCM_CORRUPT, "the encapsulated pixel data has no fragments", "(7FE0,0010) PixelData");
        return GW_DCM_CORRUPT;
    }
    if (frameCount == 1) {
        groups.emplace_back();
        for (unsigned long f = 1; f < fragments; f++) groups.back().push_back(f);
        return GW_DCM_OK;
    }
    if (fragments - 1 == static_cast<unsigned long>(frameCount)) {
        for (unsigned long f = 1; f < fragments; f++) groups.push_back({f});
        return GW_DCM_OK;
    }
    DcmPixelItem *table = nullptr;
    Uint32 *offsets = nullptr;
    sequence->getItem(table, 0);
    unsigned long tableLength = table ? table->getLength() : 0;
    if (!table || tableLength != 4 * static_cast<unsigned long>(frameCount) || table->getUint32Array(offsets).bad() ||
        !offsets) {
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
    return GW_DCM_OK;
}

/// The bytes of a frame's fragments, joined (unreadable or empty fragments skipped).
void joinFragments(DcmPixelSequence *sequence, const std::vector<unsigned long> &group, std::vector<uint8_t> &joined) {
    joined.clear();
    for (unsigned long f : group) {
        DcmPixelItem *item = nullptr;
        Uint8 *bytes = nullptr;
        if (sequence->getItem(item, f).bad() || !item) continue;
        if (item->getLength() == 0) continue;
        if (item->getUint8Array(bytes).bad() || !bytes) continue;
        joined.insert(joined.end(), bytes, bytes + item->getLength());
    }
}

}  // namespace

bool isJPEG2000(const std::string &uid) {
    return uid == UID_JPEG2000LosslessOnlyTransferSyntax || uid == UID_JPEG2000TransferSyntax;
}

int decodeJPEG2000(gw_dicom *dicom, DcmElement *pixelElement, PixelLayout &layout, gw_dicom_error *error) {
    auto *pixelData = static_cast<DcmPixelData *>(pixelElement);
    DcmPixelSequence *sequence = nullptr;
    if (pixelData->getEncapsulatedRepresentation(dicom->xfer, nullptr, sequence).bad() || !sequence) {
        fail(error, GW_DCM_CORRUPT, "the encapsulated pixel data cannot be read", "(7FE0,0010) PixelData");
        return GW_DCM_CORRUPT;
    }
    std::vector<std::vector<unsigned long>> groups;
    int status = groupFragments(sequence, layout.frameCount, groups, error);
    if (status != GW_DCM_OK) return status;
    dicom->decoded.assign(layout.total, 0);
    std::vector<uint8_t> joined;
    for (size_t frame = 0; frame < groups.size(); frame++) {
        joinFragments(sequence, groups[frame], joined);
        status = decodeFrame(joined, layout, dicom->decoded.data() + frame * layout.frameBytes,
                             static_cast<uint32_t>(frame), error);
        if (status != GW_DCM_OK) return status;
    }
    layout.planar = 0;
    if (layout.photometric == "YBR_ICT" || layout.photometric == "YBR_RCT") layout.photometric = "RGB";
    return GW_DCM_OK;
}

}  // namespace gw
