/**
 * @file version.h
 * @brief The library version: written here and nowhere else.
 *
 * The build reads the three numbers below to name the shared library, so
 * a release changes only this file.
 */
#ifndef SIMCLR_VERSION_H
#define SIMCLR_VERSION_H

#include "simclr/export.h"

/** Major version: changes when the ABI breaks (from 1.0 on). */
#define SIMCLR_VERSION_MAJOR 0
/** Minor version: new functions, compatible. */
#define SIMCLR_VERSION_MINOR 1
/** Patch version: fixes only. */
#define SIMCLR_VERSION_PATCH 0

/** The version as one comparable number: major * 10000 + minor * 100 + patch. */
#define SIMCLR_VERSION_NUMBER                                                  \
    (SIMCLR_VERSION_MAJOR * 10000 + SIMCLR_VERSION_MINOR * 100 +               \
     SIMCLR_VERSION_PATCH)

/** @cond INTERNAL */
#define SIMCLR_VERSION_STRINGIFY_(x) #x
#define SIMCLR_VERSION_STRINGIFY(x) SIMCLR_VERSION_STRINGIFY_(x)
/** @endcond */
/** The version as text, "MAJOR.MINOR.PATCH". */
#define SIMCLR_VERSION_STRING                                                  \
    SIMCLR_VERSION_STRINGIFY(SIMCLR_VERSION_MAJOR)                             \
    "." SIMCLR_VERSION_STRINGIFY(SIMCLR_VERSION_MINOR) "."                     \
    SIMCLR_VERSION_STRINGIFY(SIMCLR_VERSION_PATCH)

SIMCLR_BEGIN_DECLS

/**
 * @brief The version of the library linked at run time.
 *
 * Compare with #SIMCLR_VERSION_NUMBER to detect a header/library mismatch.
 * Thread-safe. Since 0.1.
 *
 * @return major * 10000 + minor * 100 + patch.
 */
SIMCLR_API unsigned simclr_version(void);

/**
 * @brief The version of the library linked at run time, as text.
 *
 * Thread-safe. Since 0.1.
 *
 * @return A static string such as "0.1.0"; never NULL, never freed.
 */
SIMCLR_API const char *simclr_version_string(void);

SIMCLR_END_DECLS

#endif /* SIMCLR_VERSION_H */
