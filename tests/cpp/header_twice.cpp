// include/brook.hpp may be included twice, and beside brook.h (its include guard works).
// Compiled, never run.
#include "brook.hpp"
#include "brook.h"
#include "brook.hpp"

int main() { return BROOK_STATUS_OK; }
