// gw_codecs.c: the parts of the codec API shared by PNG and JPEG (see gw_png.c and gw_jpeg.c).
#include <stdlib.h>

#include "gw_codecs.h"

void gw_free(void *p) { free(p); }
