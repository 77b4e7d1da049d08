/*
 * The libpng callbacks the PNG reader and writer share: errors are kept
 * as text and end the libpng call with a longjmp, warnings (about
 * ancillary chunks libpng skips) are dropped, and memory comes from the
 * library's allocator hooks, a failure being remembered so that it is
 * reported as SIMCLR_ERR_NOMEM.
 *
 * Give the same simclr__png_report as libpng's error pointer and memory
 * pointer (png_create_read_struct_2 / png_create_write_struct_2).
 */
#ifndef SIMCLR_LIB_IMAGE_PNG_REPORT_H
#define SIMCLR_LIB_IMAGE_PNG_REPORT_H

#include <png.h>

typedef struct simclr__png_report {
    int out_of_memory; /* an allocation failed: report NOMEM */
    char message[256]; /* libpng's error text */
} simclr__png_report;

void simclr__png_on_error(png_structp png, png_const_charp msg);
void simclr__png_on_warning(png_structp png, png_const_charp msg);
png_voidp simclr__png_on_malloc(png_structp png, png_alloc_size_t size);
void simclr__png_on_free(png_structp png, png_voidp ptr);

#endif
