/*
 * safetensors files: the weights and training state of every model the
 * library saves or loads, in the format PyTorch users already have tools
 * for (an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the raw little-endian data).
 *
 * Reading takes the whole file into memory and checks the header before
 * any tensor is handed out: strict JSON (json-c), no name or field given
 * twice, every byte range inside the data, the ranges tiling the data
 * exactly (no overlap, no hole, nothing after the last), shapes whose
 * element count matches the byte range, no product that overflows, a
 * "__metadata__" object of strings. A file with any dtype other than the
 * three below is refused as a whole. Writing is atomic: a temporary file
 * in the same folder, fsync, rename over the target, fsync of the folder
 * (lib/common/atomic_file.h).
 */
#ifndef SIMCLR_LIB_IO_SAFETENSORS_H
#define SIMCLR_LIB_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

#define SIMCLR__ST_MAX_DIMS 8

/* The element types the library reads and writes; the data of a tensor is
 * little-endian, as the format requires. */
typedef enum simclr__dtype {
    SIMCLR__DTYPE_F32 = 0, /* "F32" */
    SIMCLR__DTYPE_I64 = 1, /* "I64", e.g. num_batches_tracked */
    SIMCLR__DTYPE_BF16 = 2 /* "BF16" */
} simclr__dtype;

/* One tensor of a file: a view into the file's bytes (read) or the
 * caller's (write). The data is little-endian and may be unaligned. */
typedef struct simclr__st_tensor {
    const char *name;
    simclr__dtype dtype;
    uint32_t ndim;                       /* 0 for a scalar */
    uint64_t shape[SIMCLR__ST_MAX_DIMS];
    const void *data;
    size_t nbytes;
} simclr__st_tensor;

/* ---- reading ---------------------------------------------------------- */

typedef struct simclr__st_file simclr__st_file;

/*
 * Read and check a whole file. @p err (may be NULL) and the thread's
 * last error get the detail on failure, naming the path and the tensor:
 * SIMCLR_ERR_IO (cannot open or read), SIMCLR_ERR_CORRUPT (bad header,
 * JSON, offsets, shapes, truncated data), SIMCLR_ERR_UNSUPPORTED (a dtype
 * other than those above, more than SIMCLR__ST_MAX_DIMS dimensions),
 * SIMCLR_ERR_LIMIT (a header above 100 MB, 10^8 bytes, the reference
 * implementation's limit), SIMCLR_ERR_NOMEM. On failure *out is NULL.
 * The file handle is read-only after it is opened: several threads may
 * read from one at once.
 */
simclr_status simclr__st_open(const char *path, simclr__error *err,
                              simclr__st_file **out);
/* The same from memory; @p what (may be NULL: "memory buffer") names the
 * buffer in messages. The bytes are copied. */
simclr_status simclr__st_open_memory(const void *bytes, size_t size,
                                     const char *what, simclr__error *err,
                                     simclr__st_file **out);
/* Release @p f and every tensor view into it; NULL is allowed. */
void simclr__st_close(simclr__st_file *f);

size_t simclr__st_count(const simclr__st_file *f);
/* Tensors in the order of their data offsets; NULL past the end. */
const simclr__st_tensor *simclr__st_at(const simclr__st_file *f, size_t i);
/* The tensor called @p name, or NULL. */
const simclr__st_tensor *simclr__st_find(const simclr__st_file *f,
                                         const char *name);
/* A string value of the header's "__metadata__" object, or NULL. */
const char *simclr__st_metadata(const simclr__st_file *f, const char *key);
/* The path or buffer name the file was read from. */
const char *simclr__st_source(const simclr__st_file *f);

/*
 * Copy tensor @p name, which must exist with dtype F32 and exactly the
 * given shape, into @p dst (its element count of floats). Fails with
 * SIMCLR_ERR_CORRUPT ("missing tensor conv1.weight", "tensor x has dtype
 * I64, expected F32") or SIMCLR_ERR_SHAPE ("tensor conv1.weight has shape
 * [64, 3, 7, 7], expected [64, 3, 3, 3]"), naming the source;
 * SIMCLR_ERR_INVALID_ARGUMENT for NULL arguments.
 */
simclr_status simclr__st_read_f32(const simclr__st_file *f, const char *name,
                                  uint32_t ndim, const uint64_t *shape,
                                  float *dst, simclr__error *err);

/* ---- writing ---------------------------------------------------------- */

typedef struct simclr__st_writer simclr__st_writer;

simclr_status simclr__st_writer_create(simclr__st_writer **out);
void simclr__st_writer_destroy(simclr__st_writer *w);

/* Add a tensor (@p shape may be NULL when @p ndim is 0, @p data when the
 * tensor is empty). The name is copied; the data is referenced, not
 * copied, and must stay valid until simclr__st_write() returns. Names
 * must be unique and not "__metadata__" (SIMCLR_ERR_INVALID_ARGUMENT);
 * a shape whose byte size overflows gives SIMCLR_ERR_LIMIT. Failures are
 * recorded in the thread's last error. */
simclr_status simclr__st_add(simclr__st_writer *w, const char *name,
                             simclr__dtype dtype, uint32_t ndim,
                             const uint64_t *shape, const void *data);
/* Add a string to "__metadata__" (key and value are copied; a key given
 * twice is SIMCLR_ERR_INVALID_ARGUMENT). */
simclr_status simclr__st_add_metadata(simclr__st_writer *w, const char *key,
                                      const char *value);
/* Write everything to @p path atomically: "__metadata__" first, then the
 * tensors in the order they were added, the header padded with spaces to
 * a multiple of 8 bytes. The file keeps the mode of the one it replaces
 * (0644 when new). SIMCLR_ERR_IO or SIMCLR_ERR_NOMEM leave an existing
 * file at @p path untouched and no temporary file behind. */
simclr_status simclr__st_write(const simclr__st_writer *w, const char *path,
                               simclr__error *err);

#endif /* SIMCLR_LIB_IO_SAFETENSORS_H */
