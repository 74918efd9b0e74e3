#ifndef GW_DICOM_H
#define GW_DICOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The version string of the DCMTK library Groundwork was built against.
const char *gw_dicom_toolkit_version(void);

/// Outcome codes of the DICOM functions. Every failure also fills a `gw_dicom_error`.
enum {
    GW_DCM_OK = 0,
    /// The bytes are not a DICOM Part 10 file (no "DICM" after the 128-byte preamble).
    GW_DCM_NOT_DICOM = 1,
    /// The file violates the standard (bad element, bad sequence, undecodable compressed data).
    GW_DCM_CORRUPT = 2,
    /// The data ends before the file does.
    GW_DCM_TRUNCATED = 3,
    /// A valid file that Groundwork cannot render (transfer syntax, pixel layout).
    GW_DCM_UNSUPPORTED = 4,
    /// The dataset has no Pixel Data (7FE0,0010).
    GW_DCM_NO_PIXELS = 5,
    /// Memory ran out.
    GW_DCM_NOMEM = 6,
    /// A caller error (bad frame number, bad argument).
    GW_DCM_INVALID = 7,
};

/// A failure: its code, a message and where in the file it happened (a tag such as
/// "(7FE0,0010) PixelData" or a transfer syntax UID), empty when not known.
typedef struct gw_dicom_error {
    int code;
    char message[512];
    char where[160];
} gw_dicom_error;

/// An opened DICOM file (owned by the caller; release with `gw_dicom_close`).
typedef struct gw_dicom gw_dicom;

/// Parses a DICOM Part 10 file from memory (the bytes are copied). Returns NULL and fills `error`
/// when the bytes are not a readable DICOM file.
gw_dicom *gw_dicom_open(const uint8_t *data, size_t size, gw_dicom_error *error);

/// Releases an opened file (NULL is ignored).
void gw_dicom_close(gw_dicom *dicom);

/// Releases memory returned by the functions below (NULL is ignored).
void gw_dicom_free(void *pointer);

/// The transfer syntax UID of the file as read (from the file meta information).
const char *gw_dicom_transfer_syntax(const gw_dicom *dicom);

/// Every attribute of the file meta information and the dataset, minus the pixel data, as a
/// JSON object (see `schemas/dicom-attributes.schema.json`): keys are DICOM keywords (or
/// "GGGG,EEEE" for private and unknown tags); strings and numbers as JSON strings and numbers,
/// several values as arrays, sequences as arrays of objects, binary values as
/// {"vr": "OB", "length": n}, empty values as null. Returns a malloc'd NUL-terminated UTF-8 string.
/// Text (PN, LO, SH, ST, LT, UT, UC) is converted to UTF-8 from the Specific Character Set
/// (0008,0005) in force (the item's own, else its parent's); without one, or with ISO_IR 192, the
/// bytes are read as UTF-8 and any other byte as ISO 8859-1. Fails with GW_DCM_UNSUPPORTED naming
/// (0008,0005) when the character set cannot be converted, with GW_DCM_CORRUPT naming the
/// attribute when its text is not valid in its character set.
char *gw_dicom_attributes_json(gw_dicom *dicom, gw_dicom_error *error);

/// The pixel layout of the decoded frames.
typedef struct gw_dicom_pixels {
    uint32_t rows;
    uint32_t columns;
    uint32_t frames;
    uint32_t samples_per_pixel;
    uint32_t bits_allocated;
    uint32_t bits_stored;
    uint32_t high_bit;
    uint32_t pixel_representation;
    /// 0: interleaved samples, 1: one plane per sample (after decompression).
    uint32_t planar_configuration;
    /// The photometric interpretation of the decoded samples (a decoder may have turned YBR into RGB).
    char photometric[24];
    /// Bytes of one frame, little-endian samples.
    size_t frame_bytes;
} gw_dicom_pixels;

/// Decodes the pixel data of every frame (decompressing it when the transfer syntax is
/// encapsulated). Fails with the transfer syntax UID or the offending tag in `error.where`.
int gw_dicom_decode(gw_dicom *dicom, gw_dicom_pixels *pixels, gw_dicom_error *error);

/// The decoded bytes of frame `index` (0-based), `frame_bytes` long; NULL before a successful
/// `gw_dicom_decode` or when the index is out of range. Valid until `gw_dicom_close`.
const uint8_t *gw_dicom_frame(const gw_dicom *dicom, uint32_t index);

/// The Pixel Data (7FE0,0010) value as stored, undecoded, for files in a native (uncompressed)
/// transfer syntax: the bytes of a little-endian stream (bit-packed 1-bit data stays packed).
/// `*output` is malloc'd (free with `gw_dicom_free`). Fails naming the tag when there is no
/// pixel data, or the transfer syntax UID when the pixel data is encapsulated.
int gw_dicom_pixel_bytes(gw_dicom *dicom, uint8_t **output, size_t *size, gw_dicom_error *error);

/// A lookup table read from the dataset: its descriptor and its entries.
typedef struct gw_dicom_lut {
    /// Number of entries (the descriptor's 0 already turned into 65536).
    uint32_t entries;
    /// The first stored value mapped (signed when the pixel representation is signed).
    int32_t first_mapped;
    /// Bits per entry as the descriptor says.
    uint32_t bits;
    /// 1 when `data` holds the segments of a segmented palette table (PS3.3 C.7.9.2), to expand.
    uint32_t segmented;
    /// Number of values in `data`: `entries`, or the segmented data's word count.
    uint32_t length;
    /// The values (malloc'd; free with `gw_dicom_free`).
    uint16_t *data;
} gw_dicom_lut;

/// Which lookup table to read.
enum {
    GW_LUT_MODALITY = 0,
    GW_LUT_VOI = 1,
    GW_LUT_RED = 2,
    GW_LUT_GREEN = 3,
    GW_LUT_BLUE = 4,
};

/// Reads a lookup table: the Modality LUT Sequence's first item, the `item`-th VOI LUT Sequence
/// item, or a palette colour table. Returns GW_DCM_OK, or GW_DCM_INVALID when there is no such
/// table, or GW_DCM_CORRUPT (with the tag) when the table is inconsistent.
int gw_dicom_lut_read(gw_dicom *dicom, int which, uint32_t item, int pixel_signed, gw_dicom_lut *lut,
                      gw_dicom_error *error);

/// An overlay plane (60xx group) of the file.
typedef struct gw_dicom_overlay {
    uint32_t rows;
    uint32_t columns;
    /// OverlayOrigin: the 1-based row and column of the overlay's first pixel in the image.
    int32_t origin_row;
    int32_t origin_column;
    /// NumberOfFramesInOverlay (1 when absent).
    uint32_t frames;
    /// OverlayType: "G" (graphics) or "R" (region of interest).
    char type[4];
    /// OverlayLabel, else OverlayDescription (may be empty), in UTF-8 (cut at a character boundary).
    char label[64];
    /// rows x columns bytes, 0 or 1, of the overlay's first frame (malloc'd; free with `gw_dicom_free`).
    uint8_t *data;
} gw_dicom_overlay;

/// Reads overlay plane `index` (0...15: groups 6000, 6002, ... 601E). Returns GW_DCM_OK, or
/// GW_DCM_INVALID when there is no such plane with Overlay Data, or an error naming the tag.
int gw_dicom_overlay_read(gw_dicom *dicom, uint32_t index, gw_dicom_overlay *overlay, gw_dicom_error *error);

/// One action of a de-identification profile, for every attribute whose tag `t` satisfies
/// `(t & mask) == tag`, at any depth of nesting.
typedef struct gw_deid_rule {
    uint32_t tag;
    uint32_t mask;
    /// 'X' remove, 'Z' empty, 'D' replace with `value`, 'K' keep, 'C' clean, 'U' replace UID.
    char action;
    /// The dummy value for 'D' (NULL: a value that fits the VR).
    const char *value;
} gw_deid_rule;

/// Applies de-identification rules to the dataset (first matching rule wins; attributes matched
/// by none are kept). `remove_private` removes every private attribute. UIDs under 'U' are
/// replaced through the `uid_from` → `uid_to` pairs (a UID missing from them is an error).
/// 'C' removes every occurrence of the `clean_words` from the text (then empties it when nothing
/// but separators is left). The file meta information's Media Storage SOP Instance UID follows
/// the dataset's SOP Instance UID. Text in a character set other than ASCII or UTF-8 is converted to
/// UTF-8 first (the clean words are UTF-8), and the dataset then declares ISO_IR 192.
int gw_dicom_deidentify(gw_dicom *dicom, const gw_deid_rule *rules, size_t rule_count, int remove_private,
                        const char *const *uid_from, const char *const *uid_to, size_t uid_count,
                        const char *const *clean_words, size_t clean_count, gw_dicom_error *error);

/// Sets (or adds) a top-level string attribute of the dataset, e.g. PatientIdentityRemoved.
int gw_dicom_set_string(gw_dicom *dicom, uint32_t tag, const char *value, gw_dicom_error *error);

/// Adds a Deidentification Method Code Sequence item (0012,0064) with the given code.
int gw_dicom_add_deid_code(gw_dicom *dicom, const char *value, const char *scheme, const char *meaning,
                           gw_dicom_error *error);

/// Every distinct value of the UID (UI) attributes matched by a 'U' rule, as a JSON array of
/// strings (malloc'd).
char *gw_dicom_uids_json(gw_dicom *dicom, const gw_deid_rule *rules, size_t rule_count, gw_dicom_error *error);

/// Writes the file (meta information and dataset) in its original transfer syntax into a malloc'd
/// buffer (in memory: no temporary file).
int gw_dicom_write(gw_dicom *dicom, uint8_t **output, size_t *size, gw_dicom_error *error);

#ifdef __cplusplus
}
#endif

#endif
