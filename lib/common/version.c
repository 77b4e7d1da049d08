#include "simclr/version.h"

unsigned simclr_version(void)
{
    return SIMCLR_VERSION_NUMBER;
}

const char *simclr_version_string(void)
{
    return SIMCLR_VERSION_STRING;
}
