// Re-encodes DICOM files as JPEG lossless (process 14, selection value 1) with DCMTK, for the
// corpus of tools/bench-dicom. Usage: bench-dicom-encode IN OUT [IN OUT ...]. Built by the bench.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpeg/djrplol.h>

#include <cstdio>

int main(int argc, char **argv) {
    DJEncoderRegistration::registerCodecs();
    int status = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        DcmFileFormat file;
        OFCondition result = file.loadFile(argv[i]);
        DJ_RPLossless parameters(1, 0);  // predictor 1 ("SV1"), no point transform
        if (result.good())
            result = file.getDataset()->chooseRepresentation(EXS_JPEGProcess14SV1, &parameters);
        if (result.good()) result = file.saveFile(argv[i + 1], EXS_JPEGProcess14SV1);
        if (result.bad()) {
            std::fprintf(stderr, "%s: %s\n", argv[i], result.text());
            status = 1;
        }
    }
    DJEncoderRegistration::cleanup();
    return status;
}
