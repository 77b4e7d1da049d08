/*
 * Write a small YCCK JPEG (with Adobe's APP14 marker) for the decoder
 * tests: Pillow cannot write one. Built and run by gen_image.py.
 *
 * usage: make_ycck OUT.jpg
 */
#include <stdio.h>
#include <stdlib.h>

#include <jpeglib.h>

#define W 40
#define H 24

int main(int argc, char **argv)
{
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr err;
    unsigned char row[W * 4];
    FILE *f;

    if (argc != 2 || !(f = fopen(argv[1], "wb")))
        return 2;
    cinfo.err = jpeg_std_error(&err);
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, f);
    cinfo.image_width = W;
    cinfo.image_height = H;
    cinfo.input_components = 4;
    cinfo.in_color_space = JCS_CMYK;
    jpeg_set_defaults(&cinfo);
    jpeg_set_colorspace(&cinfo, JCS_YCCK); /* also writes APP14 */
    jpeg_set_quality(&cinfo, 95, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < H) {
        unsigned y = cinfo.next_scanline, x;
        JSAMPROW p = row;

        /* Inverted CMYK samples, as Adobe stores them. */
        for (x = 0; x < W; x++) {
            row[4 * x + 0] = (unsigned char)(255 - 6 * x);
            row[4 * x + 1] = (unsigned char)(255 - 10 * y);
            row[4 * x + 2] = (unsigned char)(6 * x);
            row[4 * x + 3] = (unsigned char)(255 - (x * y) % 200);
        }
        jpeg_write_scanlines(&cinfo, &p, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    return fclose(f) == 0 ? 0 : 1;
}
