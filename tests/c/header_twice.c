/* include/brook.h may be included twice (its include guard works). Compiled, never run. */
#include "brook.h"
#include "brook.h"

int main(void) { return BROOK_STATUS_OK; }
