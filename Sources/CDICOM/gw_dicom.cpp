// The extern "C" face over DCMTK: no C++ type or exception crosses into Swift.
#include "gw_dicom.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>

extern "C" const char *gw_dicom_toolkit_version(void) { return OFFIS_DCMTK_VERSION_STRING; }
