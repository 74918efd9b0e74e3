// gw_codecs.h: PNG and JPEG decoding and encoding for Groundwork.
//
// Every entry point owns its own setjmp, so libpng's and libjpeg's longjmp
// never crosses a Swift frame: a failure comes back as a code and a message.
#ifndef GW_CODECS_H
#define GW_CODECS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// What a decode call does: the `header_only` argument of gw_png_decode and gw_jpeg_decode.
#define GW_MODE_DECODE 0    ///< decode all pixels into a new buffer
#define GW_MODE_HEADER 1    ///< read the header only
#define GW_MODE_VALIDATE 2  ///< decode all data through a few rows of scratch memory, keep nothing

/// Result codes.
typedef enum {
    GW_OK = 0,
    GW_ERR_CORRUPT = 1,      ///< the data violates the format (bad CRC, bad Huffman code, ...)
    GW_ERR_TRUNCATED = 2,    ///< the data ends before the image does
    GW_ERR_UNSUPPORTED = 3,  ///< valid, but a kind Groundwork does not decode (e.g. CMYK JPEG)
    GW_ERR_TOO_LARGE = 4,    ///< width x height exceeds the caller's max_pixels
    GW_ERR_NOMEM = 5,        ///< allocation failed
    GW_ERR_INVALID_ARGUMENT = 6
} gw_status;

/// Colour layout of the file as stored (before Groundwork's expansion).
typedef enum {
    GW_COLOR_GRAY = 0,
    GW_COLOR_GRAY_ALPHA = 1,
    GW_COLOR_RGB = 2,
    GW_COLOR_RGBA = 3,
    GW_COLOR_PALETTE = 4,  ///< PNG palette: expanded to RGB, or RGBA when the file has tRNS
    GW_COLOR_CMYK = 5,     ///< JPEG CMYK/YCCK: reported by header_only, never decoded
} gw_color;

typedef struct {
    uint32_t width;             ///< as stored (before any EXIF orientation)
    uint32_t height;
    uint8_t channels;           ///< channels of `pixels`: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
    uint8_t bit_depth;          ///< 8 or 16: bits per sample of `pixels`
    uint8_t source_bit_depth;   ///< bits per sample in the file (1, 2, 4, 8, 16; 8 or 12 for JPEG)
    uint8_t color;              ///< a gw_color: the file's colour layout
    uint8_t interlaced;         ///< PNG Adam7 interlacing, or JPEG progressive
    uint8_t reserved[3];
    /// Decoded samples, row-major, interleaved, no row padding; 16-bit samples in host byte order.
    /// Allocated with malloc; release with gw_free. NULL when header_only.
    uint8_t *pixels;
    /// Bytes in `pixels`; after a header_only call, the bytes a full decode needs.
    size_t pixels_size;
} gw_image;

typedef struct {
    int code;            ///< a gw_status
    char message[256];   ///< what went wrong, in the library's words
} gw_error;

/// Decodes a PNG held in memory. With header_only, fills the geometry and leaves pixels NULL.
/// Sub-8-bit gray is scaled to 8 bits (as Pillow's "L" mode), palette is expanded to RGB(A),
/// 16-bit stays 16-bit, no gamma or colour transform is applied, interlacing is undone.
int gw_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels, int header_only,
                  gw_image *out, gw_error *err);

/// Decodes a JPEG held in memory (baseline, extended, progressive; gray or YCbCr/RGB) to 8-bit
/// gray or RGB with libjpeg's defaults (islow DCT, fancy upsampling), as Pillow does.
/// CMYK and YCCK JPEGs are GW_ERR_UNSUPPORTED (header_only still reports them).
int gw_jpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels, int header_only,
                   gw_image *out, gw_error *err);

/// Like gw_png_decode without header_only, but decodes into `dst`, a caller-owned buffer of
/// `dst_size` bytes (at least width x height x channels x bit_depth / 8 as reported by a
/// header_only call), so the caller chooses the allocation. On success out->pixels == dst;
/// never pass it to gw_free. A buffer that is too small is GW_ERR_INVALID_ARGUMENT.
int gw_png_decode_into(const uint8_t *data, size_t size, uint64_t max_pixels, uint8_t *dst,
                       size_t dst_size, gw_image *out, gw_error *err);

/// Like gw_jpeg_decode without header_only, but decodes into the caller-owned buffer `dst`
/// (see gw_png_decode_into).
int gw_jpeg_decode_into(const uint8_t *data, size_t size, uint64_t max_pixels, uint8_t *dst,
                        size_t dst_size, gw_image *out, gw_error *err);

/// Decodes every byte of a PNG's image data, as gw_png_decode would, but through one row of
/// scratch memory: proves the file sound and fills the geometry, with out->pixels NULL.
int gw_png_validate(const uint8_t *data, size_t size, uint64_t max_pixels, gw_image *out,
                    gw_error *err);

/// Decodes every scan of a JPEG, as gw_jpeg_decode would, through a few rows of scratch memory.
int gw_jpeg_validate(const uint8_t *data, size_t size, uint64_t max_pixels, gw_image *out,
                     gw_error *err);

/// Encodes pixels (1-4 channels, 8 or 16 bits, 16-bit in host byte order) as a non-interlaced PNG.
/// On success *out_data is malloc'd (release with gw_free).
int gw_png_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint8_t channels,
                  uint8_t bit_depth, int compression_level, uint8_t **out_data, size_t *out_size,
                  gw_error *err);

/// Encodes 8-bit gray (1 channel) or RGB (3 channels) pixels as a JPEG.
int gw_jpeg_encode(const uint8_t *pixels, uint32_t width, uint32_t height, uint8_t channels,
                   int quality, int progressive, uint8_t **out_data, size_t *out_size,
                   gw_error *err);

/// Releases memory returned by this library.
void gw_free(void *p);

#ifdef __cplusplus
}
#endif

#endif
