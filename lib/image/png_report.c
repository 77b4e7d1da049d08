/* The libpng callbacks of the PNG reader and writer (png_report.h). */
#include <stdio.h>

#include "common/common.h"
#include "png_report.h"

void simclr__png_on_error(png_structp png, png_const_charp msg)
{
    simclr__png_report *report = png_get_error_ptr(png);

    snprintf(report->message, sizeof(report->message), "%s", msg);
    png_longjmp(png, 1);
}

void simclr__png_on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

png_voidp simclr__png_on_malloc(png_structp png, png_alloc_size_t size)
{
    simclr__png_report *report = png_get_mem_ptr(png);
    void *p = simclr__malloc(size);

    if (!p)
        report->out_of_memory = 1;
    return p;
}

void simclr__png_on_free(png_structp png, png_voidp ptr)
{
    (void)png;
    simclr__free(ptr);
}
