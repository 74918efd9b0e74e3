// The DICOM Part 10 file: parsed from memory with dcmdata (with the decoders registered once),
// failures placed at the element where parsing stopped, and written back in memory in its original
// transfer syntax.
#include "gw_dicom_internal.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcwcache.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <cstdlib>
#include <cstring>
#include <mutex>

namespace gw {

namespace {

void setUp() {
    static std::once_flag once;
    std::call_once(once, [] {
        OFLog::configure(OFLogger::OFF_LOG_LEVEL);
        DcmRLEDecoderRegistration::registerCodecs();
        DJDecoderRegistration::registerCodecs(EDC_photometricInterpretation);
        DJLSDecoderRegistration::registerCodecs();
    });
}

/// The deepest last element of a (partially read) item: where parsing stopped.
std::string lastElement(DcmItem *item, int depth = 0) {
    if (!item || item->card() == 0 || depth > 64) return "";
    DcmElement *element = item->getElement(item->card() - 1);
    if (!element) return "";
    std::string here = describeTag(element->getTag());
    if (element->ident() == EVR_SQ) {
        auto *sequence = static_cast<DcmSequenceOfItems *>(element);
        if (sequence->card() > 0) {
            std::string inner = lastElement(sequence->getItem(sequence->card() - 1), depth + 1);
            if (!inner.empty()) return here + " > " + inner;
        }
    }
    return here;
}

/// Fails naming a transfer syntax DCMTK does not know; false when it knows it.
bool refuseUnknownSyntax(const std::string &uid, gw_dicom_error *error) {
    if (DcmXfer(uid.c_str()).getXfer() != EXS_Unknown) return false;
    std::string shown = printable(uid);
    fail(error, GW_DCM_UNSUPPORTED, "transfer syntax " + shown + " is not supported", shown);
    return true;
}

/// Why parsing stopped: an unknown transfer syntax, a file cut short, or a corrupt element, placed
/// at the deepest element read.
void parseFailure(gw_dicom *dicom, OFCondition status, gw_dicom_error *error) {
    if (dicom->transferSyntaxCut) {
        fail(error, GW_DCM_TRUNCATED,
             "the file ends early (truncated) inside the transfer syntax UID (at (0002,0010) TransferSyntaxUID)",
             "(0002,0010) TransferSyntaxUID");
        return;
    }
    DcmFileFormat &file = dicom->file;
    std::string where = lastElement(file.getDataset());
    if (where.empty()) where = lastElement(file.getMetaInfo());
    // An element longer than what is left reads as an invalid stream: the file was cut short
    // inside it (or its length is corrupt); when that element is the pixel data, it was cut.
    bool inPixels = where.find("(7FE0,0010)") != std::string::npos;
    bool truncated = status == EC_StreamNotifyClient || status == EC_PrematureSequDelimitationItem ||
                     status == EC_SequEnd || status == EC_ItemEnd || (status == EC_InvalidStream && inPixels);
    if (!dicom->transferSyntax.empty() && refuseUnknownSyntax(dicom->transferSyntax, error)) return;
    fail(error, truncated ? GW_DCM_TRUNCATED : GW_DCM_CORRUPT,
         std::string(truncated ? "the file ends early (truncated): " : "the file cannot be parsed: ") + status.text() +
             (where.empty() ? std::string("") : " (at " + where + ")"),
         where);
}

/// Parses the copied bytes into `dicom->file` and reads the transfer syntax UID.
OFCondition parse(gw_dicom *dicom) {
    DcmInputBufferStream stream;
    stream.setBuffer(dicom->bytes.data(), static_cast<offile_off_t>(dicom->bytes.size()));
    stream.setEos();
    dicom->file.transferInit();
    OFCondition status = dicom->file.read(stream, EXS_Unknown, EGL_noChange, 0xFFFFFFFE);
    // A file cut short inside the UID leaves the element in the meta information with its value
    // only partly read (the rest of its buffer is uninitialised): its value is taken only when the
    // element was read to its end (asked before transferEnd resets the state).
    DcmElement *element = nullptr;
    if (dicom->file.getMetaInfo()->findAndGetElement(DCM_TransferSyntaxUID, element).good() && element) {
        if (element->transferState() == ERW_ready) {
            OFString uid;
            element->getOFString(uid, 0);
            dicom->transferSyntax = uid.c_str();
        } else {
            dicom->transferSyntaxCut = true;
        }
    }
    dicom->file.transferEnd();
    return status;
}

/// Checks what a successful parse read: a known transfer syntax and a dataset.
bool checkParsed(gw_dicom *dicom, gw_dicom_error *error) {
    DcmDataset *dataset = dicom->file.getDataset();
    dicom->xfer = dataset->getOriginalXfer();
    if (dicom->transferSyntax.empty()) {
        fail(error, GW_DCM_CORRUPT, "the file meta information has no transfer syntax",
             "(0002,0010) TransferSyntaxUID");
        return false;
    }
    if (refuseUnknownSyntax(dicom->transferSyntax, error)) return false;
    if (dataset->card() == 0) {
        fail(error, GW_DCM_TRUNCATED, "the file has no dataset after its meta information",
             "(0002,0010) TransferSyntaxUID");
        return false;
    }
    return true;
}

/// Writes the file (or, with EWM_dataset, its dataset alone: DcmFileFormat would still write the
/// meta information) in its original transfer syntax.
/// DCMTK writes into a fixed buffer and returns EC_StreamNotifyClient whenever it is full: each
/// time the buffer is drained into `bytes` and the write resumes where it stopped.
OFCondition writeInto(gw_dicom *dicom, E_FileWriteMode mode, std::vector<uint8_t> &bytes) {
    std::vector<char> chunk(1 << 20);
    DcmOutputBufferStream stream(chunk.data(), static_cast<offile_off_t>(chunk.size()));
    DcmWriteCache cache;
    auto drain = [&] {
        void *data = nullptr;
        offile_off_t length = 0;
        stream.flushBuffer(data, length);
        if (data && length > 0) {
            const auto *begin = static_cast<const uint8_t *>(data);
            bytes.insert(bytes.end(), begin, begin + length);
        }
    };
    dicom->file.transferInit();
    OFCondition status = EC_StreamNotifyClient;
    try {
        while (status == EC_StreamNotifyClient) {
            status = mode == EWM_dataset
                         ? dicom->file.getDataset()->write(stream, dicom->xfer, EET_ExplicitLength, &cache, EGL_recalcGL)
                         : dicom->file.write(stream, dicom->xfer, EET_ExplicitLength, &cache, EGL_recalcGL,
                                             EPD_noChange, 0, 0, 0, mode);
            drain();
        }
    } catch (...) {
        dicom->file.transferEnd();
        throw;
    }
    dicom->file.transferEnd();
    // A deflated transfer syntax may hold compressed bytes back until flushed.
    for (int round = 0; status.good() && !stream.isFlushed() && round < 1 << 16; round++) {
        stream.flush();
        drain();
    }
    return status;
}

/// "2.25." and the decimal of the 128-bit FNV-1a hash of `bytes` (PS3.5 B.2: at most 44 characters).
std::string uidFromBytes(const std::vector<uint8_t> &bytes) {
    __extension__ typedef unsigned __int128 u128;
    const u128 prime = (static_cast<u128>(1) << 88) + 0x13B;
    u128 hash = (static_cast<u128>(0x6C62272E07BB0142ull) << 64) | 0x62B821756295C58Dull;
    for (uint8_t byte : bytes) {
        hash ^= byte;
        hash *= prime;
    }
    std::string digits;
    do {
        digits.push_back(static_cast<char>('0' + static_cast<int>(hash % 10)));
        hash /= 10;
    } while (hash != 0);
    return "2.25." + std::string(digits.rbegin(), digits.rend());
}

/// When the dataset has no SOP Instance UID and the meta information no Media Storage SOP
/// Instance UID, DCMTK writes one it makes from the clock, the process id and a counter: the same
/// file would be written differently each time. Such a file gets a UID derived from its dataset
/// as written instead (the same dataset, the same UID), set here before DCMTK looks.
OFCondition settleInstanceUID(gw_dicom *dicom) {
    OFString uid;
    if (dicom->file.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, uid).good() && !uid.empty()) {
        return EC_Normal;
    }
    DcmMetaInfo *meta = dicom->file.getMetaInfo();
    if (meta->findAndGetOFString(DCM_MediaStorageSOPInstanceUID, uid).good() && !uid.empty()) return EC_Normal;
    std::vector<uint8_t> dataset;
    OFCondition status = writeInto(dicom, EWM_dataset, dataset);
    if (status.bad()) return status;
    return meta->putAndInsertString(DCM_MediaStorageSOPInstanceUID, uidFromBytes(dataset).c_str());
}

}  // namespace

}  // namespace gw

using namespace gw;

extern "C" const char *gw_dicom_toolkit_version(void) { return OFFIS_DCMTK_VERSION_STRING; }

extern "C" gw_dicom *gw_dicom_open(const uint8_t *data, size_t size, gw_dicom_error *error) {
    clear(error);
    try {
        setUp();
        if (!data || size < 132 || std::memcmp(data + 128, "DICM", 4) != 0) {
            fail(error, GW_DCM_NOT_DICOM, "not a DICOM file: no \"DICM\" after the 128-byte preamble");
            return nullptr;
        }
        std::unique_ptr<gw_dicom> dicom(new gw_dicom());
        dicom->bytes.assign(data, data + size);
        OFCondition status = parse(dicom.get());
        if (status.bad()) {
            parseFailure(dicom.get(), status, error);
            return nullptr;
        }
        if (!checkParsed(dicom.get(), error)) return nullptr;
        return dicom.release();
    } catch (...) {
        failFromException(error, "out of memory reading the file", "the file cannot be parsed (internal error)");
    }
    return nullptr;
}

extern "C" void gw_dicom_close(gw_dicom *dicom) {
    try {
        delete dicom;
    } catch (...) {
    }
}

extern "C" void gw_dicom_free(void *pointer) { std::free(pointer); }

extern "C" const char *gw_dicom_transfer_syntax(const gw_dicom *dicom) {
    return dicom ? dicom->transferSyntax.c_str() : "";
}

extern "C" int gw_dicom_write(gw_dicom *dicom, uint8_t **output, size_t *size, gw_dicom_error *error) {
    clear(error);
    if (!dicom || !output || !size) {
        fail(error, GW_DCM_INVALID, "no file");
        return GW_DCM_INVALID;
    }
    *output = nullptr;
    *size = 0;
    try {
        std::vector<uint8_t> bytes;
        OFCondition status = settleInstanceUID(dicom);
        if (status.good()) status = writeInto(dicom, EWM_updateMeta, bytes);
        if (status.bad() || bytes.empty()) {
            fail(error, GW_DCM_INVALID,
                 std::string("cannot write the DICOM file: ") + (status.bad() ? status.text() : "nothing was written"),
                 dicom->transferSyntax);
            return GW_DCM_INVALID;
        }
        *output = static_cast<uint8_t *>(std::malloc(bytes.size()));
        if (!*output) {
            fail(error, GW_DCM_NOMEM, "out of memory");
            return GW_DCM_NOMEM;
        }
        std::memcpy(*output, bytes.data(), bytes.size());
        *size = bytes.size();
        return GW_DCM_OK;
    } catch (...) {
        fail(error, GW_DCM_NOMEM, "out of memory writing the DICOM file");
        return GW_DCM_NOMEM;
    }
}

