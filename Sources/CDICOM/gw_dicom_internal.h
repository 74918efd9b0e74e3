// The extern "C" face over DCMTK (include/gw_dicom.h): no C++ type or exception crosses into Swift.
// Every failure is a code, a message and the place (tag or UID); text reaches Swift in UTF-8,
// converted from the Specific Character Set; files are written in memory. One concern a file:
//   file.cpp        parsing the Part 10 file from memory, writing it back
//   attributes.cpp  the attributes as JSON
//   charset.cpp     character sets to UTF-8
//   pixels.cpp      the pixel layout and the decoder of each transfer-syntax family
//   jpeg2000.cpp    JPEG 2000 through OpenJPEG
//   lut.cpp         modality, VOI and palette lookup tables
//   overlay.cpp     overlay planes
//   deidentify.cpp  de-identification and the edits that record it
//   support.cpp     failures, tag names, small copies
// This header holds what they share; it is not part of the public face.
#ifndef GW_DICOM_INTERNAL_H
#define GW_DICOM_INTERNAL_H

#include "gw_dicom.h"

#include <dcmtk/config/osconfig.h>

#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcspchrs.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <memory>
#include <string>
#include <vector>

struct gw_dicom {
    std::vector<uint8_t> bytes;
    DcmFileFormat file;
    std::string transferSyntax;
    /// True when the file ends inside the Transfer Syntax UID's value (`transferSyntax` stays empty:
    /// the part read is not a value).
    bool transferSyntaxCut = false;
    E_TransferSyntax xfer = EXS_Unknown;
    std::vector<uint8_t> decoded;
    size_t frameBytes = 0;
    uint32_t frames = 0;
};

namespace gw {

// MARK: failures and places (support.cpp)

/// Fills `error` (when given) with a code, a message and the place.
void fail(gw_dicom_error *error, int code, const std::string &message, const std::string &where = "");

/// Resets `error` to success.
void clear(gw_dicom_error *error);

/// Four upper-case hex digits.
std::string hex4(unsigned value);

/// A value read from the file as messages show it: printable ASCII as is, every other byte as
/// \xHH, so that no control or invalid byte reaches a message.
std::string printable(const std::string &text);

/// "(GGGG,EEEE) Keyword" for messages.
std::string describeTag(const DcmTagKey &key);

/// True for the value representations whose values are bytes, not text or numbers.
bool isBinaryVR(DcmEVR vr);

/// The value of a US attribute of `item`, `fallback` when absent or unreadable.
Uint16 getU16(DcmItem *item, const DcmTagKey &key, Uint16 fallback);

/// The bytes of an element's value: read as 16-bit words (host order) when `asWords`, else as
/// bytes. `data` stays NULL when the value cannot be read.
OFCondition elementBytes(DcmElement *element, bool asWords, Uint8 *&data);

/// A malloc'd NUL-terminated copy (NULL when memory runs out).
char *copyString(const std::string &text);

/// Copies UTF-8 text into a fixed buffer, cut at a character boundary when it does not fit.
void copyUTF8(char *buffer, size_t capacity, const std::string &text);

// MARK: character sets (charset.cpp)

/// A text attribute that cannot be read as UTF-8: its message and place (thrown inside CDICOM
/// only, caught before returning to Swift).
struct CharsetFailure {
    int code;
    std::string message;
    std::string where;
};

/// How the text of an item is turned into UTF-8: the Specific Character Set (0008,0005) in force
/// (the item's own, else its parent's). Plain: the text is ASCII or UTF-8 as declared and is copied
/// (a byte that is not UTF-8 is read as ISO 8859-1). Converted: through DCMTK's converter.
/// Japanese: DICOM's ISO 2022 Japanese sets, which DCMTK names by iconv encodings that glibc lacks
/// (ISO-IR-87, ISO-IR-159), decoded here into EUC-JP and converted by iconv.
struct Charset {
    enum Mode { plain, converted, japanese };
    Mode mode = plain;
    std::string value;
    std::shared_ptr<DcmSpecificCharacterSet> converter;
    /// Japanese: ISO 2022 IR 13 is the first value (JIS X 0201 is the initial G0 and G1).
    bool katakanaFirst = false;
    bool needsConversion() const { return mode != plain; }
};

/// Called inside `catch (...)`: turns the exception being handled into a failure and returns its
/// code. A character-set failure keeps its code, message and place; running out of memory is
/// GW_DCM_NOMEM with `outOfMemory`; anything else is GW_DCM_CORRUPT with `internal` (both at `where`).
int failFromException(gw_dicom_error *error, const std::string &outOfMemory, const std::string &internal,
                      const std::string &where = "");

/// The character set of `item`: its own Specific Character Set when it has one, else `parent`.
/// Throws a CharsetFailure when the declared character set cannot be converted to UTF-8.
Charset charsetOf(DcmItem *item, const Charset &parent, const std::string &path);

/// True when the element's text must be converted to be UTF-8.
bool needsConversion(DcmElement *element, const Charset &charset);

/// A copy of a text element with its value in UTF-8.
std::unique_ptr<DcmElement> convertedCopy(DcmElement *element, const Charset &charset, const std::string &path);

/// Converts every text value of `item`, at every depth, to UTF-8 in place, and declares
/// ISO_IR 192 wherever a Specific Character Set was declared.
void convertInPlace(DcmItem *item, const Charset &parent, const std::string &path, int depth);

/// The text of a top-level attribute in UTF-8 (empty when absent).
std::string textOf(DcmItem *item, const DcmTagKey &key, const Charset &charset);

// MARK: JSON (attributes.cpp)

/// Appends `text` as a JSON string (bytes that are not UTF-8 read as ISO 8859-1).
void appendString(std::string &out, const std::string &text);

// MARK: pixel data (pixels.cpp, jpeg2000.cpp)

/// The layout of the pixel data as the attributes describe it, and the sizes that follow.
struct PixelLayout {
    uint32_t rows = 0;
    uint32_t columns = 0;
    uint32_t samples = 1;
    uint32_t bitsAllocated = 0;
    uint32_t bitsStored = 0;
    uint32_t highBit = 0;
    uint32_t representation = 0;
    uint32_t planar = 0;
    std::string photometric;
    uint32_t frameCount = 1;
    uint64_t pixelCount = 0;
    /// Bytes of one decoded frame, and of every frame.
    uint64_t frameBytes = 0;
    uint64_t total = 0;
};

/// Decodes JPEG 2000 pixel data (lossless only or lossy) with OpenJPEG, one codestream per frame,
/// into `dicom->decoded`; the layout's planar configuration and photometric interpretation become
/// those of the decoded samples.
int decodeJPEG2000(gw_dicom *dicom, DcmElement *pixelElement, PixelLayout &layout, gw_dicom_error *error);

/// True for the JPEG 2000 transfer syntaxes OpenJPEG decodes here.
bool isJPEG2000(const std::string &uid);

}  // namespace gw

#endif
