/*
 * libsimclr: symbol export and C++ linkage markers.
 *
 * Every public declaration carries SIMCLR_API; everything else in the
 * library is built with hidden visibility, so only what is declared in
 * these headers is part of the ABI.
 */
#ifndef SIMCLR_EXPORT_H
#define SIMCLR_EXPORT_H

#if defined(_WIN32) && defined(SIMCLR_BUILDING_SHARED)
#define SIMCLR_API __declspec(dllexport)
#elif defined(_WIN32) && defined(SIMCLR_USING_SHARED)
#define SIMCLR_API __declspec(dllimport)
#elif defined(__GNUC__) && __GNUC__ >= 4
#define SIMCLR_API __attribute__((visibility("default")))
#else
#define SIMCLR_API
#endif

#ifdef __cplusplus
#define SIMCLR_BEGIN_DECLS extern "C" {
#define SIMCLR_END_DECLS }
#else
#define SIMCLR_BEGIN_DECLS
#define SIMCLR_END_DECLS
#endif

#endif /* SIMCLR_EXPORT_H */
