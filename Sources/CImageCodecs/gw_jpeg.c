// gw_jpeg.c: JPEG decoding and encoding with libjpeg(-turbo).
//
// Every entry point owns the setjmp that libjpeg's error_exit comes back to, so a longjmp never
// leaves this file. libjpeg only warns about damaged data and pads the image with grey; here a
// premature end of data is GW_ERR_TRUNCATED and every other corrupt-data warning GW_ERR_CORRUPT,
// so damaged pixels are never returned as if they were good.
#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "gw_common.h"

/// Most scans a progressive JPEG may have: a guard against "scan bombs" that take minutes.
#define GW_JPEG_MAX_SCANS 1000
/// Rows handed to jpeg_read_scanlines at a time.
#define GW_JPEG_ROW_BATCH 16

/// libjpeg's error manager, extended with the jump target and what the warnings said.
typedef struct {
    struct jpeg_error_mgr pub;  // must be first: libjpeg sees only this part
    jmp_buf jump;
    /// A warning said the data ended early (JWRN_JPEG_EOF).
    int saw_eof;
    /// A warning said the data is damaged (bad Huffman code, hit a marker, ...).
    int saw_corrupt;
    /// The progress monitor saw more than GW_JPEG_MAX_SCANS scans.
    int too_many_scans;
    /// The first significant warning, in libjpeg's words.
    char warning[JMSG_LENGTH_MAX];
    /// The fatal error, in libjpeg's words.
    char message[JMSG_LENGTH_MAX];
} gw_jpeg_error_mgr;

/// libjpeg's fatal-error callback: formats the message and jumps back to the entry point.
__attribute__((noreturn)) static void gw_jpeg_error_exit(j_common_ptr cinfo) {
    gw_jpeg_error_mgr *manager = (gw_jpeg_error_mgr *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, manager->message);
    longjmp(manager->jump, 1);
}

/// Warnings that say nothing about the pixels.
static int gw_jpeg_warning_is_benign(int code) {
    switch (code) {
    case JWRN_ADOBE_XFORM:  // unknown Adobe transform code: libjpeg falls back to a default
    case JWRN_JFIF_MAJOR:   // unknown JFIF revision
    case JWRN_BOGUS_ICC:    // a broken ICC profile marker: only matters to jpeg_read_icc_profile
        return 1;
    default:
        return 0;
    }
}

/// libjpeg's message callback: traces are dropped, warnings are classified and remembered.
static void gw_jpeg_emit_message(j_common_ptr cinfo, int msg_level) {
    if (msg_level >= 0) {
        return;  // trace messages
    }
    gw_jpeg_error_mgr *manager = (gw_jpeg_error_mgr *)cinfo->err;
    cinfo->err->num_warnings++;
    int code = cinfo->err->msg_code;
    if (gw_jpeg_warning_is_benign(code)) {
        return;
    }
    if (!manager->saw_eof && !manager->saw_corrupt) {
        (*cinfo->err->format_message)(cinfo, manager->warning);
    }
    if (code == JWRN_JPEG_EOF) {
        manager->saw_eof = 1;
    } else {
        manager->saw_corrupt = 1;
    }
}

/// libjpeg's printing callback: Groundwork never prints from a library.
static void gw_jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

/// Installs Groundwork's error manager on a (de)compressor.
static struct jpeg_error_mgr *gw_jpeg_error_setup(gw_jpeg_error_mgr *manager) {
    memset(manager, 0, sizeof *manager);
    struct jpeg_error_mgr *pub = jpeg_std_error(&manager->pub);
    pub->error_exit = gw_jpeg_error_exit;
    pub->emit_message = gw_jpeg_emit_message;
    pub->output_message = gw_jpeg_output_message;
    return pub;
}

/// Maps libjpeg's fatal error to a status code and message.
static int gw_jpeg_classify_error(const gw_jpeg_error_mgr *manager, size_t size, gw_error *err) {
    if (manager->too_many_scans) {
        return gw_fail(err, GW_ERR_CORRUPT, "progressive JPEG with more than %d scans",
                       GW_JPEG_MAX_SCANS);
    }
    switch (manager->pub.msg_code) {
    case JERR_OUT_OF_MEMORY:
        return gw_fail(err, GW_ERR_NOMEM, "%s", manager->message);
    case JERR_IMAGE_TOO_BIG:
    case JERR_WIDTH_OVERFLOW:
        return gw_fail(err, GW_ERR_TOO_LARGE, "%s", manager->message);
    case JERR_BAD_PRECISION:
    case JERR_SOF_UNSUPPORTED:
    case JERR_NOT_COMPILED:
    case JERR_CONVERSION_NOTIMPL:
    case JERR_ARITH_NOTIMPL:
        return gw_fail(err, GW_ERR_UNSUPPORTED, "%s", manager->message);
    default:
        break;
    }
    if (manager->saw_eof) {
        return gw_fail(err, GW_ERR_TRUNCATED, "%s: data ends at byte %zu (%s)", manager->warning,
                       size, manager->message);
    }
    return gw_fail(err, GW_ERR_CORRUPT, "%s", manager->message);
}

/// Turns the warnings seen so far into a failure, or returns GW_OK.
static int gw_jpeg_check_warnings(const gw_jpeg_error_mgr *manager, size_t size, gw_error *err) {
    if (manager->saw_eof) {
        return gw_fail(err, GW_ERR_TRUNCATED, "%s: data ends at byte %zu", manager->warning,
                       size);
    }
    if (manager->saw_corrupt) {
        return gw_fail(err, GW_ERR_CORRUPT, "%s", manager->warning);
    }
    return GW_OK;
}

/// Decompression state; it lives in the entry point's frame.
typedef struct {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_progress_mgr progress;
    gw_jpeg_error_mgr errors;
    uint8_t *pixels;
    int owns_pixels;
} gw_jpeg_read_context;

/// Stops progressive "scan bombs": too many scans is treated as corrupt data.
static void gw_jpeg_progress(j_common_ptr cinfo) {
    if (!cinfo->is_decompressor) {
        return;
    }
    j_decompress_ptr dinfo = (j_decompress_ptr)cinfo;
    if (dinfo->input_scan_number > GW_JPEG_MAX_SCANS) {
        gw_jpeg_error_mgr *manager = (gw_jpeg_error_mgr *)cinfo->err;
        manager->too_many_scans = 1;
        snprintf(manager->message, sizeof manager->message, "more than %d scans",
                 GW_JPEG_MAX_SCANS);
        longjmp(manager->jump, 1);
    }
}

static void gw_jpeg_read_cleanup(gw_jpeg_read_context *context) {
    jpeg_destroy_decompress(&context->cinfo);
    if (context->owns_pixels) {
        free(context->pixels);
    }
    context->pixels = NULL;
    context->owns_pixels = 0;
}

static int gw_jpeg_decode_impl(const uint8_t *data, size_t size, uint64_t max_pixels,
                               int header_only, uint8_t *dst, size_t dst_size, gw_image *out,
                               gw_error *err) {
    if (err == NULL) {
        return GW_ERR_INVALID_ARGUMENT;
    }
    gw_clear_error(err);
    if (out == NULL || (data == NULL && size > 0)) {
        return gw_fail(err, GW_ERR_INVALID_ARGUMENT, "gw_jpeg_decode: missing argument");
    }
    memset(out, 0, sizeof *out);
    if (size == 0) {
        return gw_fail(err, GW_ERR_TRUNCATED, "Premature end of JPEG file: no data");
    }
    if ((unsigned long long)size > (unsigned long long)ULONG_MAX) {
        return gw_fail(err, GW_ERR_TOO_LARGE, "JPEG data of %zu bytes is too large", size);
    }

    gw_jpeg_read_context context;
    memset(&context, 0, sizeof context);
    context.cinfo.err = gw_jpeg_error_setup(&context.errors);
    if (setjmp(context.errors.jump)) {
        int code = gw_jpeg_classify_error(&context.errors, size, err);
        gw_jpeg_read_cleanup(&context);
        return code;
    }
    jpeg_create_decompress(&context.cinfo);
    context.progress.progress_monitor = gw_jpeg_progress;
    context.cinfo.progress = &context.progress;
    jpeg_mem_src(&context.cinfo, data, (unsigned long)size);
    (void)jpeg_read_header(&context.cinfo, TRUE);

    uint32_t width = context.cinfo.image_width;
    uint32_t height = context.cinfo.image_height;
    int components = context.cinfo.num_components;
    uint8_t channels = 0;
    uint8_t color = GW_COLOR_RGB;
    J_COLOR_SPACE output_space = JCS_UNKNOWN;
    switch (context.cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE:
        channels = 1;
        color = GW_COLOR_GRAY;
        output_space = JCS_GRAYSCALE;
        break;
    case JCS_YCbCr:
    case JCS_RGB:
        channels = 3;
        color = GW_COLOR_RGB;
        output_space = JCS_RGB;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        channels = 4;
        color = GW_COLOR_CMYK;
        break;
    default:
        break;
    }
    out->width = width;
    out->height = height;
    out->channels = channels;
    out->bit_depth = 8;
    out->source_bit_depth = (uint8_t)context.cinfo.data_precision;
    out->color = color;
    out->interlaced = context.cinfo.progressive_mode ? 1 : 0;

    uint64_t pixel_count = (uint64_t)width * (uint64_t)height;
    if (pixel_count > max_pixels) {
        gw_jpeg_read_cleanup(&context);
        return gw_fail(err, GW_ERR_TOO_LARGE,
                       "image is %u x %u = %llu pixels, more than the limit of %llu",
                       (unsigned)width, (unsigned)height, (unsigned long long)pixel_count,
                       (unsigned long long)max_pixels);
    }
    if (channels == 0) {
        gw_jpeg_read_cleanup(&context);
        return gw_fail(err, GW_ERR_UNSUPPORTED,
                       "JPEG with %d components in an unknown colour space is not supported",
                       components);
    }
    size_t row_bytes = 0;
    size_t total_bytes = 0;
    if (!gw_mul_size((size_t)width, (size_t)channels, &row_bytes) ||
        !gw_mul_size(row_bytes, (size_t)height, &total_bytes)) {
        gw_jpeg_read_cleanup(&context);
        return gw_fail(err, GW_ERR_TOO_LARGE, "image is %u x %u: too large to address",
                       (unsigned)width, (unsigned)height);
    }
    out->pixels_size = total_bytes;
    if (header_only == GW_MODE_HEADER) {
        gw_jpeg_read_cleanup(&context);
        return GW_OK;
    }
    int validate_only = header_only == GW_MODE_VALIDATE;
    if (color == GW_COLOR_CMYK) {
        gw_jpeg_read_cleanup(&context);
        return gw_fail(err, GW_ERR_UNSUPPORTED,
                       "CMYK JPEGs are not supported: convert the image to RGB first");
    }
    int status = gw_jpeg_check_warnings(&context.errors, size, err);
    if (status != GW_OK) {
        gw_jpeg_read_cleanup(&context);
        return status;
    }

    context.cinfo.out_color_space = output_space;
    context.cinfo.dct_method = JDCT_ISLOW;
    context.cinfo.do_fancy_upsampling = TRUE;
    context.cinfo.do_block_smoothing = TRUE;
    context.cinfo.scale_num = 1;
    context.cinfo.scale_denom = 1;
    if (validate_only) {
        // Validation needs every bit of entropy-coded data parsed (that is where corrupt and
        // truncated data shows), not the full-resolution reconstruction, which cannot fail once
        // the coefficients are read. So reconstruct at 1/8 scale (DC only) in one channel: the
        // Huffman decoding, marker parsing and end-of-data checks are exactly those of a full
        // decode, at a fraction of the cost.
        context.cinfo.scale_denom = 8;
        context.cinfo.out_color_space = JCS_GRAYSCALE;
        context.cinfo.do_fancy_upsampling = FALSE;
        context.cinfo.do_block_smoothing = FALSE;
        context.cinfo.dct_method = JDCT_IFAST;
    }
    (void)jpeg_start_decompress(&context.cinfo);
    status = gw_jpeg_check_warnings(&context.errors, size, err);
    if (status != GW_OK) {
        gw_jpeg_read_cleanup(&context);
        return status;
    }
    if (validate_only) {
        row_bytes = (size_t)context.cinfo.output_width * (size_t)context.cinfo.output_components;
    } else if (context.cinfo.output_width != width || context.cinfo.output_height != height ||
        context.cinfo.output_components != channels) {
        gw_jpeg_read_cleanup(&context);
        return gw_fail(err, GW_ERR_CORRUPT, "unexpected decoded layout %u x %u x %d",
                       (unsigned)context.cinfo.output_width,
                       (unsigned)context.cinfo.output_height, context.cinfo.output_components);
    }

    size_t scratch_rows = 0;
    if (validate_only) {
        // Decode every row through a small batch buffer: all the data is checked, and memory
        // stays at a few rows however large the image.
        size_t scratch_bytes = 0;
        if (!gw_mul_size(row_bytes, GW_JPEG_ROW_BATCH, &scratch_bytes)) {
            gw_jpeg_read_cleanup(&context);
            return gw_fail(err, GW_ERR_TOO_LARGE, "a row of %zu bytes is too large", row_bytes);
        }
        context.pixels = (uint8_t *)malloc(scratch_bytes > 0 ? scratch_bytes : 1);
        if (context.pixels == NULL) {
            gw_jpeg_read_cleanup(&context);
            return gw_fail(err, GW_ERR_NOMEM, "cannot allocate %zu bytes of rows", scratch_bytes);
        }
        context.owns_pixels = 1;
        scratch_rows = GW_JPEG_ROW_BATCH;
    } else if (dst != NULL) {
        if (dst_size < total_bytes) {
            gw_jpeg_read_cleanup(&context);
            return gw_fail(err, GW_ERR_INVALID_ARGUMENT,
                           "destination holds %zu bytes, the image needs %zu", dst_size,
                           total_bytes);
        }
        context.pixels = dst;
        context.owns_pixels = 0;
    } else {
        context.pixels = (uint8_t *)malloc(total_bytes > 0 ? total_bytes : 1);
        if (context.pixels == NULL) {
            gw_jpeg_read_cleanup(&context);
            return gw_fail(err, GW_ERR_NOMEM, "cannot allocate %zu bytes for the pixels",
                           total_bytes);
        }
        context.owns_pixels = 1;
    }

    while (context.cinfo.output_scanline < context.cinfo.output_height) {
        JSAMPROW rows[GW_JPEG_ROW_BATCH];
        JDIMENSION first = context.cinfo.output_scanline;
        JDIMENSION count = context.cinfo.output_height - first;
        if (count > GW_JPEG_ROW_BATCH) {
            count = GW_JPEG_ROW_BATCH;
        }
        for (JDIMENSION i = 0; i < count; i++) {
            size_t row = scratch_rows > 0 ? (size_t)i : (size_t)(first + i);
            rows[i] = (JSAMPROW)(context.pixels + row * row_bytes);
        }
        JDIMENSION got = jpeg_read_scanlines(&context.cinfo, rows, count);
        status = gw_jpeg_check_warnings(&context.errors, size, err);
        if (status == GW_OK && got == 0) {
            status = gw_fail(err, GW_ERR_CORRUPT, "the decoder stopped at row %u of %u",
                             (unsigned)first, (unsigned)height);
        }
        if (status != GW_OK) {
            gw_jpeg_read_cleanup(&context);
            return status;
        }
    }
    // Reads on to the EOI marker: a file that stops early is truncated.
    (void)jpeg_finish_decompress(&context.cinfo);
    status = gw_jpeg_check_warnings(&context.errors, size, err);
    if (status != GW_OK) {
        gw_jpeg_read_cleanup(&context);
        return status;
    }

    if (validate_only) {
        out->pixels = NULL;
        gw_jpeg_read_cleanup(&context);
        return GW_OK;
    }
    out->pixels = context.pixels;
    context.owns_pixels = 0;  // handed to the caller
    gw_jpeg_read_cleanup(&context);
    return GW_OK;
}

int gw_jpeg_validate(const uint8_t *data, size_t size, uint64_t max_pixels, gw_image *out,
                     gw_error *err) {
    return gw_jpeg_decode_impl(data, size, max_pixels, GW_MODE_VALIDATE, NULL, 0, out, err);
}

int gw_jpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels, int header_only,
                   gw_image *out, gw_error *err) {
    return gw_jpeg_decode_impl(data, size, max_pixels, header_only, NULL, 0, out, err);
}

int gw_jpeg_decode_into(const uint8_t *data, size_t size, uint64_t max_pixels, uint8_t *dst,
                        size_t dst_size, gw_image *out, gw_error *err) {
    if (dst == NULL) {
        gw_clear_error(err);
        return gw_fail(err, GW_ERR_INVALID_ARGUMENT, "gw_jpeg_decode_into: missing destination");
    }
    return gw_jpeg_decode_impl(data, size, max_pixels, 0, dst, dst_size, out, err);
}

// MARK: - Encoding

/// A destination manager writing into a buffer that grows by doubling.
typedef struct {
    struct jpeg_destination_mgr pub;  // must be first
    gw_growing_buffer buffer;
} gw_jpeg_destination;

static void gw_jpeg_init_destination(j_compress_ptr cinfo) {
    gw_jpeg_destination *destination = (gw_jpeg_destination *)cinfo->dest;
    destination->buffer.size = 0;
    if (!gw_buffer_reserve(&destination->buffer, 65536)) {
        ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 1);
    }
    destination->pub.next_output_byte = destination->buffer.data;
    destination->pub.free_in_buffer = destination->buffer.capacity;
}

/// Called when the whole buffer is full: grow it and carry on.
static boolean gw_jpeg_empty_output_buffer(j_compress_ptr cinfo) {
    gw_jpeg_destination *destination = (gw_jpeg_destination *)cinfo->dest;
    destination->buffer.size = destination->buffer.capacity;
    if (!gw_buffer_reserve(&destination->buffer, destination->buffer.capacity)) {
        ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 2);
    }
    destination->pub.next_output_byte = destination->buffer.data + destination->buffer.size;
    destination->pub.free_in_buffer = destination->buffer.capacity - destination->buffer.size;
    return TRUE;
}

static void gw_jpeg_term_destination(j_compress_ptr cinfo) {
    gw_jpeg_destination *destination = (gw_jpeg_destination *)cinfo->dest;
    destination->buffer.size = destination->buffer.capacity - destination->pub.free_in_buffer;
}

/// Compression state; it lives in the entry point's frame.
typedef struct {
    struct jpeg_compress_struct cinfo;
    gw_jpeg_error_mgr errors;
    gw_jpeg_destination destination;
} gw_jpeg_write_context;

int gw_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint8_t channels,
                   int quality, int progressive, uint8_t **out_data, size_t *out_size,
                   gw_error *err) {
    if (err == NULL) {
        return GW_ERR_INVALID_ARGUMENT;
    }
    gw_clear_error(err);
    if (pixels == NULL || out_data == NULL || out_size == NULL) {
        return gw_fail(err, GW_ERR_INVALID_ARGUMENT, "gw_jpeg_encode: missing argument");
    }
    *out_data = NULL;
    *out_size = 0;
    if (width == 0 || height == 0 || width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION) {
        return gw_fail(err, GW_ERR_INVALID_ARGUMENT,
                       "JPEG dimensions must be 1 to %ld, not %u x %u", (long)JPEG_MAX_DIMENSION,
                       (unsigned)width, (unsigned)height);
    }
    if (channels != 1 && channels != 3) {
        return gw_fail(err, GW_ERR_INVALID_ARGUMENT,
                       "JPEG encoding takes 1 (gray) or 3 (RGB) channels, not %u",
                       (unsigned)channels);
    }
    if (quality < 1 || quality > 100) {
        return gw_fail(err, GW_ERR_INVALID_ARGUMENT, "JPEG quality must be 1 to 100, not %d",
                       quality);
    }
    size_t row_bytes = (size_t)width * channels;

    gw_jpeg_write_context context;
    memset(&context, 0, sizeof context);
    context.cinfo.err = gw_jpeg_error_setup(&context.errors);
    if (setjmp(context.errors.jump)) {
        int code = context.errors.pub.msg_code == JERR_OUT_OF_MEMORY ? GW_ERR_NOMEM
                                                                     : GW_ERR_INVALID_ARGUMENT;
        gw_fail(err, code, "%s", context.errors.message);
        jpeg_destroy_compress(&context.cinfo);
        free(context.destination.buffer.data);
        return code;
    }
    jpeg_create_compress(&context.cinfo);
    context.destination.pub.init_destination = gw_jpeg_init_destination;
    context.destination.pub.empty_output_buffer = gw_jpeg_empty_output_buffer;
    context.destination.pub.term_destination = gw_jpeg_term_destination;
    context.cinfo.dest = &context.destination.pub;
    context.cinfo.image_width = width;
    context.cinfo.image_height = height;
    context.cinfo.input_components = channels;
    context.cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&context.cinfo);
    jpeg_set_quality(&context.cinfo, quality, TRUE);
    context.cinfo.dct_method = JDCT_ISLOW;
    if (progressive) {
        jpeg_simple_progression(&context.cinfo);
    }
    jpeg_start_compress(&context.cinfo, TRUE);
    while (context.cinfo.next_scanline < context.cinfo.image_height) {
        // libjpeg never writes through the row pointers it is given.
        JSAMPROW row = (JSAMPROW)(uintptr_t)(pixels + (size_t)context.cinfo.next_scanline *
                                                          row_bytes);
        (void)jpeg_write_scanlines(&context.cinfo, &row, 1);
    }
    jpeg_finish_compress(&context.cinfo);
    jpeg_destroy_compress(&context.cinfo);

    *out_data = context.destination.buffer.data;
    *out_size = context.destination.buffer.size;
    return GW_OK;
}
