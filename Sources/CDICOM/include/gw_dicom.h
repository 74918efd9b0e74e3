#ifndef GW_DICOM_H
#define GW_DICOM_H

#ifdef __cplusplus
extern "C" {
#endif

/// The version string of the DCMTK library Groundwork was built against.
const char *gw_dicom_toolkit_version(void);

#ifdef __cplusplus
}
#endif

#endif
