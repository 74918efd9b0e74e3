// gw_png.c: PNG decoding and encoding with libpng's low-level API.
//
// Every entry point owns the setjmp that libpng's errors come back to (through gw_png_error), so
// a longjmp never leaves this file. No gamma or colour transform is ever applied: the samples
// come out exactly as stored (palette expanded, sub-8-bit gray scaled to 8 bits).
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "gw_common.h"

/// Largest ancillary chunk (or decompressed text/profile) libpng may allocate while reading.
#define GW_PNG_CHUNK_MALLOC_MAX ((png_alloc_size_t)64 * 1024 * 1024)
/// Most ancillary chunks (sPLT, tEXt, unknown ...) libpng keeps while reading.
#define GW_PNG_CHUNK_CACHE_MAX 1000u

/// State shared by an entry point and libpng's callbacks; it lives in the entry point's frame.
typedef struct {
    jmp_buf jump;
    /// Set once `jump` holds a valid target; before that, gw_png_error must not longjmp.
    int armed;
    gw_error *err;
    /// Reading: the whole file, and how far libpng has read.
    const uint8_t *data;
    size_t size;
    size_t position;
    /// Set by the read callback when libpng asks for bytes past the end of the data.
    int ran_out;
    /// Set by the write callback when the output buffer cannot grow.
    int out_of_memory;
    png_structp png;
    png_infop info;
    uint8_t *pixels;
    int owns_pixels;
    png_bytep *rows;
    gw_growing_buffer output;
} gw_png_context;

/// Does `haystack` contain `needle`, ignoring ASCII case?
static int gw_contains_ignoring_case(const char *haystack, const char *needle) {
    size_t needle_length = strlen(needle);
    for (const char *start = haystack; *start != '\0'; start++) {
        size_t i = 0;
        while (i < needle_length && start[i] != '\0') {
            char a = start[i];
            char b = needle[i];
            if (a >= 'A' && a <= 'Z') {
                a = (char)(a - 'A' + 'a');
            }
            if (b >= 'A' && b <= 'Z') {
                b = (char)(b - 'A' + 'a');
            }
            if (a != b) {
                break;
            }
            i++;
        }
        if (i == needle_length) {
            return 1;
        }
    }
    return 0;
}

/// libpng's error callback: records the message and a code, then jumps back to the entry point.
static void gw_png_error(png_structp png, png_const_charp message) {
    gw_png_context *context = (gw_png_context *)png_get_error_ptr(png);
    if (context == NULL) {
        return;  // libpng falls back to its own handler, which does not return
    }
    const char *text = message != NULL ? message : "unknown libpng error";
    gw_set_message(context->err, text);
    if (context->ran_out) {
        context->err->code = GW_ERR_TRUNCATED;
    } else if (context->out_of_memory) {
        context->err->code = GW_ERR_NOMEM;
    } else if (gw_contains_ignoring_case(text, "too wide to process in memory") ||
               gw_contains_ignoring_case(text, "exceeds user limit")) {
        context->err->code = GW_ERR_TOO_LARGE;
    } else if (gw_contains_ignoring_case(text, "out of memory") ||
               gw_contains_ignoring_case(text, "insufficient memory")) {
        context->err->code = GW_ERR_NOMEM;
    } else {
        context->err->code = GW_ERR_CORRUPT;
    }
    if (!context->armed) {
        return;  // during png_create_*_struct: libpng's own handler longjmps out of it
    }
    longjmp(context->jump, 1);
}

/// libpng's warning callback: warnings (bad ancillary chunk CRCs, odd profiles) are ignored.
static void gw_png_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

/// Reads from the in-memory file; running out of data is a truncation, not corruption.
static void gw_png_read(png_structp png, png_bytep out, size_t length) {
    gw_png_context *context = (gw_png_context *)png_get_io_ptr(png);
    size_t available = context->size - context->position;
    if (length > available) {
        context->ran_out = 1;
        char message[96];
        snprintf(message, sizeof message, "Read Error: data ends at byte %zu", context->size);
        png_error(png, message);
    }
    memcpy(out, context->data + context->position, length);
    context->position += length;
}

/// Releases everything a read left behind (after success or a longjmp).
static void gw_png_read_cleanup(gw_png_context *context) {
    free(context->rows);
    context->rows = NULL;
    if (context->owns_pixels) {
        free(context->pixels);
    }
    context->pixels = NULL;
    context->owns_pixels = 0;
    if (context->png != NULL) {
        png_destroy_read_struct(&context->png, context->info != NULL ? &context->info : NULL,
                                NULL);
    }
    context->png = NULL;
    context->info = NULL;
}

static int gw_png_decode_impl(const uint8_t *data, size_t size, uint64_t max_pixels,
                              int header_only, uint8_t *dst, size_t dst_size, gw_image *out,
                              gw_error *err) {
    if (err == NULL) {
        return GW_ERR_INVALID_ARGUMENT;
    }
    gw_clear_error(err);
    if (out == NULL || (data == NULL && size > 0)) {
        return gw_fail(err, GW_ERR_INVALID_ARGUMENT, "gw_png_decode: missing argument");
    }
    memset(out, 0, sizeof *out);
    if (size < 8) {
        if (size == 0 || png_sig_cmp(data, 0, size) == 0) {
            return gw_fail(err, GW_ERR_TRUNCATED,
                           "Read Error: data ends at byte %zu, inside the PNG signature", size);
        }
        return gw_fail(err, GW_ERR_CORRUPT, "not a PNG file (bad signature)");
    }
    if (png_sig_cmp(data, 0, 8) != 0) {
        return gw_fail(err, GW_ERR_CORRUPT, "not a PNG file (bad signature)");
    }

    gw_png_context context;
    memset(&context, 0, sizeof context);
    context.err = err;
    context.data = data;
    context.size = size;
    context.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &context, gw_png_error,
                                         gw_png_warning);
    if (context.png == NULL) {
        return gw_fail(err, GW_ERR_NOMEM, "libpng could not create a read structure");
    }
    context.info = png_create_info_struct(context.png);
    if (context.info == NULL) {
        gw_png_read_cleanup(&context);
        return gw_fail(err, GW_ERR_NOMEM, "libpng could not create an info structure");
    }
    if (setjmp(context.jump)) {
        // A libpng error: gw_png_error has filled err.
        gw_png_read_cleanup(&context);
        if (err->code == GW_OK) {
            err->code = GW_ERR_CORRUPT;
        }
        return err->code;
    }
    context.armed = 1;

    png_set_read_fn(context.png, &context, gw_png_read);
    // The caller's max_pixels is the size guard; libpng's own 1,000,000 x 1,000,000 limit would
    // otherwise turn a merely large image into a confusing "corrupt" error.
    png_set_user_limits(context.png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
    png_set_chunk_cache_max(context.png, GW_PNG_CHUNK_CACHE_MAX);
    png_set_chunk_malloc_max(context.png, GW_PNG_CHUNK_MALLOC_MAX);
    png_read_info(context.png, context.info);

    png_uint_32 width = 0;
    png_uint_32 height = 0;
    int bit_depth = 0;
    int color_type = 0;
    int interlace = 0;
    png_get_IHDR(context.png, context.info, &width, &height, &bit_depth, &color_type, &interlace,
                 NULL, NULL);

    uint64_t pixel_count = (uint64_t)width * (uint64_t)height;
    if (pixel_count > max_pixels) {
        gw_png_read_cleanup(&context);
        return gw_fail(err, GW_ERR_TOO_LARGE,
                       "image is %u x %u = %llu pixels, more than the limit of %llu",
                       (unsigned)width, (unsigned)height, (unsigned long long)pixel_count,
                       (unsigned long long)max_pixels);
    }

    int has_palette_alpha = 0;
    uint8_t channels;
    uint8_t color;
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY:
        channels = 1;
        color = GW_COLOR_GRAY;
        break;
    case PNG_COLOR_TYPE_GRAY_ALPHA:
        channels = 2;
        color = GW_COLOR_GRAY_ALPHA;
        break;
    case PNG_COLOR_TYPE_RGB:
        channels = 3;
        color = GW_COLOR_RGB;
        break;
    case PNG_COLOR_TYPE_RGB_ALPHA:
        channels = 4;
        color = GW_COLOR_RGBA;
        break;
    case PNG_COLOR_TYPE_PALETTE:
        has_palette_alpha = png_get_valid(context.png, context.info, PNG_INFO_tRNS) != 0;
        channels = has_palette_alpha ? 4 : 3;
        color = GW_COLOR_PALETTE;
        break;
    default:
        gw_png_read_cleanup(&context);
        return gw_fail(err, GW_ERR_CORRUPT, "unknown PNG colour type %d", color_type);
    }
    uint8_t out_depth = bit_depth == 16 ? 16 : 8;
    size_t row_bytes = 0;
    size_t total_bytes = 0;
    if (!gw_mul_size((size_t)width, (size_t)channels * (out_depth / 8), &row_bytes) ||
        !gw_mul_size(row_bytes, (size_t)height, &total_bytes)) {
        gw_png_read_cleanup(&context);
        return gw_fail(err, GW_ERR_TOO_LARGE, "image is %u x %u: too large to address",
                       (unsigned)width, (unsigned)height);
    }
    out->width = width;
    out->height = height;
    out->channels = channels;
    out->bit_depth = out_depth;
    out->source_bit_depth = (uint8_t)bit_depth;
    out->color = color;
    out->interlaced = interlace != PNG_INTERLACE_NONE;
    out->pixels = NULL;
    out->pixels_size = total_bytes;
    if (header_only == GW_MODE_HEADER) {
        gw_png_read_cleanup(&context);
        return GW_OK;
    }
    int validate_only = header_only == GW_MODE_VALIDATE;

    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_set_palette_to_rgb(context.png);
        if (has_palette_alpha) {
            png_set_tRNS_to_alpha(context.png);
        }
    }
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) {
        png_set_expand_gray_1_2_4_to_8(context.png);
    }
    if (bit_depth == 16 && gw_host_is_little_endian()) {
        png_set_swap(context.png);
    }
    int passes = png_set_interlace_handling(context.png);
    png_read_update_info(context.png, context.info);
    size_t libpng_row_bytes = png_get_rowbytes(context.png, context.info);
    int libpng_channels = png_get_channels(context.png, context.info);
    if (libpng_row_bytes != row_bytes || libpng_channels != channels) {
        gw_png_read_cleanup(&context);
        return gw_fail(err, GW_ERR_CORRUPT,
                       "unexpected decoded row layout (%zu bytes, %d channels)", libpng_row_bytes,
                       libpng_channels);
    }

    if (validate_only) {
        // Decode every row of every pass through one row buffer: all the data is checked,
        // and memory stays at one row however large the image.
        context.pixels = (uint8_t *)malloc(row_bytes > 0 ? row_bytes : 1);
        if (context.pixels == NULL) {
            gw_png_read_cleanup(&context);
            return gw_fail(err, GW_ERR_NOMEM, "cannot allocate a row of %zu bytes", row_bytes);
        }
        context.owns_pixels = 1;
        for (int pass = 0; pass < passes; pass++) {
            for (png_uint_32 y = 0; y < height; y++) {
                png_read_row(context.png, context.pixels, NULL);
            }
        }
        png_read_end(context.png, NULL);
        out->pixels = NULL;
        gw_png_read_cleanup(&context);
        return GW_OK;
    }
    if (dst != NULL) {
        if (dst_size < total_bytes) {
            gw_png_read_cleanup(&context);
            return gw_fail(err, GW_ERR_INVALID_ARGUMENT,
                           "destination holds %zu bytes, the image needs %zu", dst_size,
                           total_bytes);
        }
        context.pixels = dst;
        context.owns_pixels = 0;
    } else {
        context.pixels = (uint8_t *)malloc(total_bytes > 0 ? total_bytes : 1);
        if (context.pixels == NULL) {
            gw_png_read_cleanup(&context);
            return gw_fail(err, GW_ERR_NOMEM, "cannot allocate %zu bytes for the pixels",
                           total_bytes);
        }
        context.owns_pixels = 1;
    }
    size_t rows_bytes = 0;
    if (!gw_mul_size((size_t)height, sizeof(png_bytep), &rows_bytes) ||
        (context.rows = (png_bytep *)malloc(rows_bytes > 0 ? rows_bytes : 1)) == NULL) {
        gw_png_read_cleanup(&context);
        return gw_fail(err, GW_ERR_NOMEM, "cannot allocate the row table for %u rows",
                       (unsigned)height);
    }
    for (png_uint_32 y = 0; y < height; y++) {
        context.rows[y] = context.pixels + (size_t)y * row_bytes;
    }
    png_read_image(context.png, context.rows);
    // The chunks after the image data, up to IEND: a file that stops early is truncated.
    png_read_end(context.png, NULL);

    out->pixels = context.pixels;
    context.owns_pixels = 0;  // handed to the caller
    gw_png_read_cleanup(&context);
    return GW_OK;
}

int gw_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels, int header_only,
                  gw_image *out, gw_error *err) {
    return gw_png_decode_impl(data, size, max_pixels, header_only, NULL, 0, out, err);
}

int gw_png_validate(const uint8_t *data, size_t size, uint64_t max_pixels, gw_image *out,
                    gw_error *err) {
    return gw_png_decode_impl(data, size, max_pixels, GW_MODE_VALIDATE, NULL, 0, out, err);
}

int gw_png_decode_into(const uint8_t *data, size_t size, uint64_t max_pixels, uint8_t *dst,
                       size_t dst_size, gw_image *out, gw_error *err) {
    if (dst == NULL) {
        gw_clear_error(err);
        return gw_fail(err, GW_ERR_INVALID_ARGUMENT, "gw_png_decode_into: missing destination");
    }
    return gw_png_decode_impl(data, size, max_pixels, 0, dst, dst_size, out, err);
}

// MARK: - Encoding

/// Appends libpng's output to the growing buffer.
static void gw_png_write(png_structp png, png_bytep bytes, size_t length) {
    gw_png_context *context = (gw_png_context *)png_get_io_ptr(png);
    if (!gw_buffer_reserve(&context->output, length)) {
        context->out_of_memory = 1;
        png_error(png, "out of memory growing the PNG output buffer");
    }
    memcpy(context->output.data + context->output.size, bytes, length);
    context->output.size += length;
}

/// Nothing to flush: the output is memory.
static void gw_png_flush(png_structp png) { (void)png; }

int gw_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint8_t channels,
                  uint8_t bit_depth, int compression_level, uint8_t **out_data, size_t *out_size,
                  gw_error *err) {
    if (err == NULL) {
        return GW_ERR_INVALID_ARGUMENT;
    }
    gw_clear_error(err);
    if (pixels == NULL || out_data == NULL || out_size == NULL) {
        return gw_fail(err, GW_ERR_INVALID_ARGUMENT, "gw_png_encode: missing argument");
    }
    *out_data = NULL;
    *out_size = 0;
    if (width == 0 || height == 0 || width > PNG_UINT_31_MAX || height > PNG_UINT_31_MAX) {
        return gw_fail(err, GW_ERR_INVALID_ARGUMENT,
                       "PNG dimensions must be 1 to 2147483647, not %u x %u", (unsigned)width,
                       (unsigned)height);
    }
    if (channels < 1 || channels > 4) {
        return gw_fail(err, GW_ERR_INVALID_ARGUMENT, "PNG holds 1 to 4 channels, not %u",
                       (unsigned)channels);
    }
    if (bit_depth != 8 && bit_depth != 16) {
        return gw_fail(err, GW_ERR_INVALID_ARGUMENT, "PNG encoding takes 8 or 16 bits, not %u",
                       (unsigned)bit_depth);
    }
    if (compression_level < 0 || compression_level > 9) {
        return gw_fail(err, GW_ERR_INVALID_ARGUMENT, "compression level must be 0 to 9, not %d",
                       compression_level);
    }
    size_t row_bytes = 0;
    size_t total_bytes = 0;
    if (!gw_mul_size((size_t)width, (size_t)channels * (bit_depth / 8), &row_bytes) ||
        !gw_mul_size(row_bytes, (size_t)height, &total_bytes)) {
        return gw_fail(err, GW_ERR_TOO_LARGE, "image is %u x %u: too large to address",
                       (unsigned)width, (unsigned)height);
    }
    static const int color_types[4] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                       PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};

    gw_png_context context;
    memset(&context, 0, sizeof context);
    context.err = err;
    context.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &context, gw_png_error,
                                          gw_png_warning);
    if (context.png == NULL) {
        return gw_fail(err, GW_ERR_NOMEM, "libpng could not create a write structure");
    }
    context.info = png_create_info_struct(context.png);
    if (context.info == NULL) {
        png_destroy_write_struct(&context.png, NULL);
        return gw_fail(err, GW_ERR_NOMEM, "libpng could not create an info structure");
    }
    if (setjmp(context.jump)) {
        png_destroy_write_struct(&context.png, &context.info);
        free(context.output.data);
        if (err->code == GW_OK || err->code == GW_ERR_TRUNCATED) {
            err->code = GW_ERR_CORRUPT;
        }
        return err->code;
    }
    context.armed = 1;

    png_set_write_fn(context.png, &context, gw_png_write, gw_png_flush);
    png_set_IHDR(context.png, context.info, width, height, bit_depth, color_types[channels - 1],
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_compression_level(context.png, compression_level);
    png_write_info(context.png, context.info);
    if (bit_depth == 16 && gw_host_is_little_endian()) {
        png_set_swap(context.png);
    }
    for (uint32_t y = 0; y < height; y++) {
        png_write_row(context.png, (png_const_bytep)(pixels + (size_t)y * row_bytes));
    }
    png_write_end(context.png, NULL);
    png_destroy_write_struct(&context.png, &context.info);

    *out_data = context.output.data;
    *out_size = context.output.size;
    return GW_OK;
}
