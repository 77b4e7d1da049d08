/*
 * safetensors reading and writing (safetensors.h).
 *
 * The header is parsed by json-c. json-c keeps only the last value of a
 * key that appears twice in one object, silently, so the reader walks the
 * text json-c has accepted once more, lexically, to count the members of
 * the top-level object and of each entry, and refuses the header when
 * json-c's object has fewer (a repeated tensor name, a repeated
 * "__metadata__" or a field given twice inside an entry).
 *
 * What the reader accepts, following the safetensors format: a JSON object
 * (valid UTF-8, then nothing but white space) mapping names to entries
 * {"dtype", "shape", "data_offsets"} and an optional "__metadata__" object
 * of strings. The byte ranges, sorted by offset, cover the data exactly:
 * each starts where the previous one ends, the first at 0, the last at the
 * end of the file. Only the element types the library uses (F32, I64,
 * BF16) are accepted; a file with any other is refused as unsupported,
 * since no model of the library could use that tensor.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json.h>

#include "common/atomic_file.h"
#include "io/safetensors.h"

/* The largest header accepted, as in the reference implementation. */
#define MAX_HEADER_BYTES 100000000u

/* json-c nests at most this deep by default; the lexical walk below
 * tracks the same depth. */
#define MAX_JSON_DEPTH 64

struct simclr__st_file {
    char *source;
    uint8_t *bytes; /* the whole file */
    size_t size;
    simclr__st_tensor *tensors; /* sorted by data offset */
    size_t count;
    char **meta_keys;
    char **meta_values;
    size_t meta_count;
};

static const struct {
    const char *name;
    size_t size;
} dtypes[] = {
    [SIMCLR__DTYPE_F32] = {"F32", 4},
    [SIMCLR__DTYPE_I64] = {"I64", 8},
    [SIMCLR__DTYPE_BF16] = {"BF16", 2},
};

static bool dtype_valid(simclr__dtype dtype)
{
    return (unsigned)dtype < SIMCLR__ARRAY_SIZE(dtypes);
}

/* ---- reading: the whole file ------------------------------------------ */

static simclr_status read_whole(const char *path, simclr__error *err,
                                uint8_t **bytes, size_t *size)
{
    struct stat st;
    char why[128];
    size_t done = 0;
    uint8_t *buf;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return simclr__fail(err, SIMCLR_ERR_IO, "%s: cannot open: %s", path,
                            strerror_r(errno, why, sizeof(why)));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return simclr__fail(err, SIMCLR_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        close(fd);
        return simclr__fail(err, SIMCLR_ERR_LIMIT,
                            "%s: %lld bytes do not fit in memory", path,
                            (long long)st.st_size);
    }

    buf = simclr__malloc((size_t)st.st_size);
    if (!buf) {
        close(fd);
        return simclr__fail(err, SIMCLR_ERR_NOMEM,
                            "%s: cannot allocate %lld bytes for the file", path,
                            (long long)st.st_size);
    }
    while (done < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            simclr_status s =
                simclr__fail(err, SIMCLR_ERR_IO, "%s: cannot read: %s", path,
                             n < 0 ? strerror_r(errno, why, sizeof(why))
                                   : "the file shrank while it was read");

            simclr__free(buf);
            close(fd);
            return s;
        }
        done += (size_t)n;
    }
    close(fd);
    *bytes = buf;
    *size = done;
    return SIMCLR_OK;
}

/* ---- reading: repeated keys -------------------------------------------- */

/*
 * The top-level members of a header json-c has accepted: where each key's
 * string token starts and ends, and how many members its value has when
 * that value is an object (a tensor's entry or "__metadata__").
 */
typedef struct member {
    size_t key_begin, key_end; /* the token, quotes included */
    size_t inner_members;
} member;

/* Walk the JSON @p text json-c accepted and fill @p members (at most
 * @p cap). The count of top-level members is returned in @p n even past
 * @p cap. False if the text has a single-quoted name, which json-c
 * accepts even in strict mode and JSON does not. */
static bool walk_members(const char *text, size_t len, member *members,
                         size_t cap, size_t *n)
{
    char stack[MAX_JSON_DEPTH];
    bool in_string = false, want_key = false, in_key = false;
    size_t depth = 0, i, count = 0;

    for (i = 0; i < len; i++) {
        char c = text[i];

        if (in_string) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_string = false;
                if (in_key && count <= cap)
                    members[count - 1].key_end = i + 1;
                in_key = false;
            }
            continue;
        }
        switch (c) {
        case '\'':
            return false;
        case '"':
            in_string = true;
            if (want_key && depth == 1) {
                want_key = false;
                in_key = true;
                if (++count <= cap)
                    members[count - 1] = (member){i, i, 0};
            }
            break;
        case '{':
        case '[':
            if (depth < MAX_JSON_DEPTH)
                stack[depth] = c;
            depth++;
            want_key = depth == 1 && c == '{';
            break;
        case '}':
        case ']':
            depth--;
            break;
        case ',':
            want_key = depth == 1 && stack[0] == '{';
            break;
        case ':':
            /* Exactly one colon per member of an object; those at depth
             * 2 belong to the entry of the current top-level member. */
            if (depth == 2 && count > 0 && count <= cap)
                members[count - 1].inner_members++;
            break;
        default:
            break;
        }
    }
    *n = count;
    return true;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Decode the JSON string token text[begin, end) with json-c. */
static json_object *decode_key(const char *text, size_t begin, size_t end)
{
    json_tokener *tok = json_tokener_new();
    json_object *key;

    if (!tok)
        return NULL;
    key = json_tokener_parse_ex(tok, text + begin, (int)(end - begin));
    json_tokener_free(tok);
    if (key && !json_object_is_type(key, json_type_string)) {
        json_object_put(key);
        key = NULL;
    }
    return key;
}

/* Refuse a header whose text has more members than json-c kept. */
static simclr_status check_repeats(const char *source, const char *text,
                                   size_t len, json_object *root,
                                   simclr__error *err)
{
    size_t kept = (size_t)json_object_object_length(root);
    json_object **keys = NULL;
    const char **names = NULL;
    simclr_status st = SIMCLR_OK;
    member *members;
    size_t n, i;

    members = simclr__malloc_array(kept + 1, sizeof(*members));
    if (!members)
        return simclr__fail(err, SIMCLR_ERR_NOMEM,
                            "%s: cannot allocate the header index", source);
    if (!walk_members(text, len, members, kept + 1, &n)) {
        simclr__free(members);
        return simclr__fail(err, SIMCLR_ERR_CORRUPT,
                            "%s: the header is not valid JSON: a name in "
                            "single quotes",
                            source);
    }
    if (n > kept + 1)
        n = kept + 1;

    keys = simclr__calloc(n + 1, sizeof(*keys));
    names = simclr__malloc_array(n + 1, sizeof(*names));
    if (!keys || !names) {
        st = simclr__fail(err, SIMCLR_ERR_NOMEM,
                          "%s: cannot allocate the header index", source);
        goto done;
    }
    for (i = 0; i < n; i++) {
        keys[i] = decode_key(text, members[i].key_begin, members[i].key_end);
        if (!keys[i]) {
            st = simclr__fail(err, SIMCLR_ERR_NOMEM,
                              "%s: cannot decode a header key", source);
            goto done;
        }
        names[i] = json_object_get_string(keys[i]);
        if (strlen(names[i]) != (size_t)json_object_get_string_len(keys[i])) {
            st = simclr__fail(err, SIMCLR_ERR_CORRUPT,
                              "%s: the name \"%s...\" contains a NUL "
                              "character",
                              source, names[i]);
            goto done;
        }
    }

    /* A name given twice. */
    if (n > kept) {
        qsort(names, n, sizeof(*names), compare_strings);
        for (i = 1; i < n; i++)
            if (strcmp(names[i - 1], names[i]) == 0)
                break;
        st = simclr__fail(
            err, SIMCLR_ERR_CORRUPT, "%s: %s%s appears twice in the header",
            source,
            i < n && strcmp(names[i], "__metadata__") != 0 ? "tensor " : "",
            i < n ? names[i] : "a name");
        goto done;
    }

    /* A field given twice inside an entry. */
    for (i = 0; i < n; i++) {
        json_object *value = json_object_object_get(root, names[i]);

        if (json_object_is_type(value, json_type_object) &&
            (size_t)json_object_object_length(value) !=
                members[i].inner_members) {
            st = simclr__fail(
                err, SIMCLR_ERR_CORRUPT,
                "%s: %s%s: a key appears twice in its entry", source,
                strcmp(names[i], "__metadata__") != 0 ? "tensor " : "",
                names[i]);
            goto done;
        }
    }

done:
    for (i = 0; keys && i < n; i++)
        json_object_put(keys[i]);
    simclr__free(keys);
    simclr__free(names);
    simclr__free(members);
    return st;
}

/* ---- reading: entries -------------------------------------------------- */

/* A non-negative JSON integer. json-c clamps a larger number than 64 bits
 * hold to UINT64_MAX, which is refused with it. */
static bool get_u64(json_object *v, uint64_t *out)
{
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
        return false;
    *out = json_object_get_uint64(v);
    return *out != UINT64_MAX;
}

/* Fill one tensor from its header entry; data offsets are checked against
 * @p data_size but not yet against the other tensors. */
static simclr_status parse_entry(const char *source, const char *name,
                                 json_object *entry, size_t data_size,
                                 const uint8_t *data, simclr__st_tensor *t,
                                 simclr__error *err)
{
    json_object *dtype = NULL, *shape = NULL, *offsets = NULL;
    uint64_t begin, end, elements = 1, nbytes;
    bool zero = false;
    const char *s;
    size_t i, ndim;

    if (!json_object_is_type(entry, json_type_object))
        return simclr__fail(err, SIMCLR_ERR_CORRUPT,
                            "%s: tensor %s: the entry is not a JSON object",
                            source, name);
    json_object_object_foreach(entry, key, value)
    {
        if (strcmp(key, "dtype") == 0)
            dtype = value;
        else if (strcmp(key, "shape") == 0)
            shape = value;
        else if (strcmp(key, "data_offsets") == 0)
            offsets = value;
        else
            return simclr__fail(err, SIMCLR_ERR_CORRUPT,
                                "%s: tensor %s: unknown field \"%s\"", source,
                                name, key);
    }

    /* dtype */
    if (!json_object_is_type(dtype, json_type_string))
        return simclr__fail(
            err, SIMCLR_ERR_CORRUPT, "%s: tensor %s: %s", source, name,
            dtype ? "dtype is not a string" : "dtype is missing");
    s = json_object_get_string(dtype);
    for (i = 0; i < SIMCLR__ARRAY_SIZE(dtypes); i++)
        if (strcmp(s, dtypes[i].name) == 0 &&
            strlen(s) == (size_t)json_object_get_string_len(dtype))
            break;
    if (i == SIMCLR__ARRAY_SIZE(dtypes))
        return simclr__fail(err, SIMCLR_ERR_UNSUPPORTED,
                            "%s: tensor %s: dtype %.32s is not supported "
                            "(only F32, I64 and BF16 are)",
                            source, name, s);
    t->dtype = (simclr__dtype)i;

    /* shape */
    if (!json_object_is_type(shape, json_type_array))
        return simclr__fail(
            err, SIMCLR_ERR_CORRUPT, "%s: tensor %s: %s", source, name,
            shape ? "shape is not an array" : "shape is missing");
    ndim = json_object_array_length(shape);
    if (ndim > SIMCLR__ST_MAX_DIMS)
        return simclr__fail(err, SIMCLR_ERR_UNSUPPORTED,
                            "%s: tensor %s: %zu dimensions, at most %d are "
                            "supported",
                            source, name, ndim, SIMCLR__ST_MAX_DIMS);
    t->ndim = (uint32_t)ndim;
    for (i = 0; i < ndim; i++) {
        if (!get_u64(json_object_array_get_idx(shape, i), &t->shape[i]))
            return simclr__fail(err, SIMCLR_ERR_CORRUPT,
                                "%s: tensor %s: shape[%zu] is not a "
                                "non-negative integer",
                                source, name, i);
        zero = zero || t->shape[i] == 0;
    }
    /* The element count; a zero anywhere makes it 0 whatever the rest. */
    for (i = 0; i < ndim && !zero; i++)
        if (__builtin_mul_overflow(elements, t->shape[i], &elements))
            return simclr__fail(err, SIMCLR_ERR_CORRUPT,
                                "%s: tensor %s: the element count of the "
                                "shape overflows",
                                source, name);
    if (zero)
        elements = 0;
    if (__builtin_mul_overflow(elements, (uint64_t)dtypes[t->dtype].size,
                               &nbytes))
        return simclr__fail(err, SIMCLR_ERR_CORRUPT,
                            "%s: tensor %s: the byte size of the shape "
                            "overflows",
                            source, name);

    /* data_offsets */
    if (!json_object_is_type(offsets, json_type_array) ||
        json_object_array_length(offsets) != 2)
        return simclr__fail(err, SIMCLR_ERR_CORRUPT, "%s: tensor %s: %s",
                            source, name,
                            offsets ? "data_offsets is not an array of two "
                                      "integers"
                                    : "data_offsets is missing");
    if (!get_u64(json_object_array_get_idx(offsets, 0), &begin) ||
        !get_u64(json_object_array_get_idx(offsets, 1), &end))
        return simclr__fail(err, SIMCLR_ERR_CORRUPT,
                            "%s: tensor %s: data_offsets are not "
                            "non-negative integers",
                            source, name);
    if (begin > end)
        return simclr__fail(err, SIMCLR_ERR_CORRUPT,
                            "%s: tensor %s: data_offsets [%llu, %llu] are "
                            "reversed",
                            source, name, (unsigned long long)begin,
                            (unsigned long long)end);
    if (end > data_size)
        return simclr__fail(err, SIMCLR_ERR_CORRUPT,
                            "%s: tensor %s: data_offsets [%llu, %llu] run "
                            "past the end of the data (%zu bytes)",
                            source, name, (unsigned long long)begin,
                            (unsigned long long)end, data_size);
    if (end - begin != nbytes)
        return simclr__fail(err, SIMCLR_ERR_CORRUPT,
                            "%s: tensor %s: %llu bytes for %llu %s elements, "
                            "expected %llu",
                            source, name, (unsigned long long)(end - begin),
                            (unsigned long long)elements, dtypes[t->dtype].name,
                            (unsigned long long)nbytes);
    t->data = data + begin;
    t->nbytes = (size_t)nbytes;
    return SIMCLR_OK;
}

static simclr_status parse_metadata(simclr__st_file *f, json_object *meta,
                                    simclr__error *err)
{
    size_t n, i = 0;

    if (!json_object_is_type(meta, json_type_object))
        return simclr__fail(err, SIMCLR_ERR_CORRUPT,
                            "%s: __metadata__ is not a JSON object", f->source);
    n = (size_t)json_object_object_length(meta);
    f->meta_keys = simclr__calloc(n + 1, sizeof(char *));
    f->meta_values = simclr__calloc(n + 1, sizeof(char *));
    if (!f->meta_keys || !f->meta_values)
        return simclr__fail(err, SIMCLR_ERR_NOMEM,
                            "%s: cannot allocate the metadata", f->source);
    json_object_object_foreach(meta, key, value)
    {
        const char *s = json_object_get_string(value);

        if (!json_object_is_type(value, json_type_string) ||
            strlen(s) != (size_t)json_object_get_string_len(value))
            return simclr__fail(err, SIMCLR_ERR_CORRUPT,
                                "%s: __metadata__: the value of \"%s\" is "
                                "not a string",
                                f->source, key);
        f->meta_keys[i] = simclr__strdup(key);
        f->meta_values[i] = simclr__strdup(s);
        f->meta_count = ++i;
        if (!f->meta_keys[i - 1] || !f->meta_values[i - 1])
            return simclr__fail(err, SIMCLR_ERR_NOMEM,
                                "%s: cannot allocate the metadata", f->source);
    }
    return SIMCLR_OK;
}

static int compare_offsets(const void *a, const void *b)
{
    const simclr__st_tensor *x = a, *y = b;
    const uint8_t *xe = (const uint8_t *)x->data + x->nbytes;
    const uint8_t *ye = (const uint8_t *)y->data + y->nbytes;

    if (x->data != y->data)
        return (const uint8_t *)x->data < (const uint8_t *)y->data ? -1 : 1;
    if (xe != ye)
        return xe < ye ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* The byte ranges, in offset order, must tile the data exactly. */
static simclr_status check_coverage(const simclr__st_file *f,
                                    const uint8_t *data, size_t data_size,
                                    simclr__error *err)
{
    size_t next = 0, i;

    for (i = 0; i < f->count; i++) {
        const simclr__st_tensor *t = &f->tensors[i];
        size_t begin = (size_t)((const uint8_t *)t->data - data);

        if (begin < next)
            return simclr__fail(err, SIMCLR_ERR_CORRUPT,
                                "%s: tensor %s: data_offsets [%zu, %zu] "
                                "overlap those of tensor %s",
                                f->source, t->name, begin, begin + t->nbytes,
                                f->tensors[i - 1].name);
        if (begin > next)
            return simclr__fail(err, SIMCLR_ERR_CORRUPT,
                                "%s: tensor %s: data_offsets [%zu, %zu] "
                                "leave bytes [%zu, %zu) of the data to no "
                                "tensor",
                                f->source, t->name, begin, begin + t->nbytes,
                                next, begin);
        next = begin + t->nbytes;
    }
    if (next != data_size)
        return simclr__fail(err, SIMCLR_ERR_CORRUPT,
                            "%s: bytes [%zu, %zu) of the data belong to no "
                            "tensor",
                            f->source, next, data_size);
    return SIMCLR_OK;
}

/* Parse the header text into a json-c object: strict JSON, valid UTF-8,
 * an object, nothing after it but white space. */
static simclr_status parse_header(const char *source, const char *text,
                                  size_t len, simclr__error *err,
                                  json_object **out)
{
    json_tokener *tok = json_tokener_new();
    json_object *root;
    size_t end, i;

    if (!tok)
        return simclr__fail(err, SIMCLR_ERR_NOMEM,
                            "%s: cannot create the JSON parser", source);
    json_tokener_set_flags(tok,
                           JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    root = json_tokener_parse_ex(tok, text, (int)len);
    if (!root) {
        enum json_tokener_error e = json_tokener_get_error(tok);

        json_tokener_free(tok);
        return simclr__fail(err, SIMCLR_ERR_CORRUPT,
                            "%s: the header is not valid JSON: %s", source,
                            e == json_tokener_continue
                                ? "it ends in the middle of a value"
                                : json_tokener_error_desc(e));
    }
    end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    for (i = end; i < len; i++)
        if (!strchr(" \t\r\n", text[i]) || text[i] == '\0')
            break;
    if (i < len || !json_object_is_type(root, json_type_object)) {
        json_object_put(root);
        return simclr__fail(err, SIMCLR_ERR_CORRUPT, "%s: the header is %s",
                            source,
                            i < len ? "followed by more than white space"
                                    : "not a JSON object");
    }
    *out = root;
    return SIMCLR_OK;
}

/* Build the table of @p f from its bytes. */
static simclr_status parse_file(simclr__st_file *f, simclr__error *err)
{
    const uint8_t *p = f->bytes;
    uint64_t header_len = 0;
    const uint8_t *data;
    size_t data_size, n, i = 0;
    json_object *root = NULL;
    simclr_status st;

    if (f->size < 8)
        return simclr__fail(err, SIMCLR_ERR_CORRUPT,
                            "%s: %zu bytes are too few for a safetensors "
                            "file",
                            f->source, f->size);
    for (i = 0; i < 8; i++)
        header_len |= (uint64_t)p[i] << (8 * i);
    /* Past the end first: that is what any other kind of file (an image
     * given as weights) looks like. */
    if (header_len > f->size - 8)
        return simclr__fail(err, SIMCLR_ERR_CORRUPT,
                            "%s: the header length %llu runs past the end of "
                            "the file (%zu bytes): not a safetensors file?",
                            f->source, (unsigned long long)header_len, f->size);
    if (header_len > MAX_HEADER_BYTES)
        return simclr__fail(err, SIMCLR_ERR_LIMIT,
                            "%s: the header length %llu is above the limit "
                            "of %u bytes",
                            f->source, (unsigned long long)header_len,
                            MAX_HEADER_BYTES);
    data = p + 8 + header_len;
    data_size = f->size - 8 - (size_t)header_len;

    st = parse_header(f->source, (const char *)p + 8, (size_t)header_len, err,
                      &root);
    if (st != SIMCLR_OK)
        return st;
    st = check_repeats(f->source, (const char *)p + 8, (size_t)header_len, root,
                       err);
    if (st != SIMCLR_OK)
        goto done;

    n = (size_t)json_object_object_length(root);
    f->tensors = simclr__calloc(n + 1, sizeof(*f->tensors));
    if (!f->tensors) {
        st = simclr__fail(err, SIMCLR_ERR_NOMEM,
                          "%s: cannot allocate the tensor table", f->source);
        goto done;
    }
    json_object_object_foreach(root, key, value)
    {
        if (strcmp(key, "__metadata__") == 0) {
            st = parse_metadata(f, value, err);
        } else {
            simclr__st_tensor *t = &f->tensors[f->count];

            st = parse_entry(f->source, key, value, data_size, data, t, err);
            if (st == SIMCLR_OK) {
                t->name = simclr__strdup(key);
                if (!t->name)
                    st = simclr__fail(err, SIMCLR_ERR_NOMEM,
                                      "%s: cannot allocate a tensor name",
                                      f->source);
                else
                    f->count++;
            }
        }
        if (st != SIMCLR_OK)
            goto done;
    }

    qsort(f->tensors, f->count, sizeof(*f->tensors), compare_offsets);
    st = check_coverage(f, data, data_size, err);

done:
    json_object_put(root);
    return st;
}

simclr_status simclr__st_open_memory(const void *bytes, size_t size,
                                     const char *what, simclr__error *err,
                                     simclr__st_file **out)
{
    simclr__st_file *f;
    simclr_status st;

    if (!out)
        return simclr__fail(err, SIMCLR_ERR_INVALID_ARGUMENT,
                            "safetensors: the output pointer is NULL");
    *out = NULL;
    if (!bytes && size > 0)
        return simclr__fail(err, SIMCLR_ERR_INVALID_ARGUMENT,
                            "safetensors: %zu bytes at NULL", size);
    if (!what)
        what = "memory buffer";

    f = simclr__calloc(1, sizeof(*f));
    if (!f)
        return simclr__fail(err, SIMCLR_ERR_NOMEM,
                            "%s: cannot allocate a safetensors file", what);
    f->source = simclr__strdup(what);
    f->bytes = simclr__malloc(size);
    if (!f->source || !f->bytes) {
        simclr__st_close(f);
        return simclr__fail(err, SIMCLR_ERR_NOMEM,
                            "%s: cannot allocate %zu bytes for a copy", what,
                            size);
    }
    if (size > 0)
        memcpy(f->bytes, bytes, size);
    f->size = size;

    st = parse_file(f, err);
    if (st != SIMCLR_OK) {
        simclr__st_close(f);
        return st;
    }
    *out = f;
    return SIMCLR_OK;
}

simclr_status simclr__st_open(const char *path, simclr__error *err,
                              simclr__st_file **out)
{
    simclr__st_file *f;
    simclr_status st;

    if (!out || !path)
        return simclr__fail(err, SIMCLR_ERR_INVALID_ARGUMENT,
                            "safetensors: the %s is NULL",
                            out ? "path" : "output pointer");
    *out = NULL;

    f = simclr__calloc(1, sizeof(*f));
    if (!f)
        return simclr__fail(err, SIMCLR_ERR_NOMEM,
                            "%s: cannot allocate a safetensors file", path);
    f->source = simclr__strdup(path);
    if (!f->source) {
        simclr__st_close(f);
        return simclr__fail(err, SIMCLR_ERR_NOMEM,
                            "%s: cannot allocate a safetensors file", path);
    }
    st = read_whole(path, err, &f->bytes, &f->size);
    if (st == SIMCLR_OK)
        st = parse_file(f, err);
    if (st != SIMCLR_OK) {
        simclr__st_close(f);
        return st;
    }
    *out = f;
    return SIMCLR_OK;
}

void simclr__st_close(simclr__st_file *f)
{
    size_t i;

    if (!f)
        return;
    for (i = 0; f->tensors && i < f->count; i++)
        simclr__free((char *)f->tensors[i].name);
    for (i = 0; i < f->meta_count; i++) {
        simclr__free(f->meta_keys[i]);
        simclr__free(f->meta_values[i]);
    }
    simclr__free(f->meta_keys);
    simclr__free(f->meta_values);
    simclr__free(f->tensors);
    simclr__free(f->bytes);
    simclr__free(f->source);
    simclr__free(f);
}

/* ---- reading: lookups --------------------------------------------------- */

size_t simclr__st_count(const simclr__st_file *f)
{
    return f ? f->count : 0;
}

const simclr__st_tensor *simclr__st_at(const simclr__st_file *f, size_t i)
{
    return f && i < f->count ? &f->tensors[i] : NULL;
}

const simclr__st_tensor *simclr__st_find(const simclr__st_file *f,
                                         const char *name)
{
    size_t i;

    if (!f || !name)
        return NULL;
    for (i = 0; i < f->count; i++)
        if (strcmp(f->tensors[i].name, name) == 0)
            return &f->tensors[i];
    return NULL;
}

const char *simclr__st_metadata(const simclr__st_file *f, const char *key)
{
    size_t i;

    if (!f || !key)
        return NULL;
    for (i = 0; i < f->meta_count; i++)
        if (strcmp(f->meta_keys[i], key) == 0)
            return f->meta_values[i];
    return NULL;
}

const char *simclr__st_source(const simclr__st_file *f)
{
    return f ? f->source : NULL;
}

/* "[64, 3, 7, 7]" into @p buf. */
static const char *format_shape(uint32_t ndim, const uint64_t *shape, char *buf,
                                size_t cap)
{
    size_t used = 0;
    uint32_t i;

    used += (size_t)snprintf(buf, cap, "[");
    for (i = 0; i < ndim && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%llu",
                                 i ? ", " : "", (unsigned long long)shape[i]);
    if (used < cap)
        snprintf(buf + used, cap - used, "]");
    return buf;
}

simclr_status simclr__st_read_f32(const simclr__st_file *f, const char *name,
                                  uint32_t ndim, const uint64_t *shape,
                                  float *dst, simclr__error *err)
{
    char have[256], want[256];
    const simclr__st_tensor *t;
    bool same;
    uint32_t i;

    if (!f || !name || (ndim > 0 && !shape) || ndim > SIMCLR__ST_MAX_DIMS)
        return simclr__fail(err, SIMCLR_ERR_INVALID_ARGUMENT,
                            "safetensors: read %s: bad arguments",
                            name ? name : "(NULL)");
    t = simclr__st_find(f, name);
    if (!t)
        return simclr__fail(err, SIMCLR_ERR_CORRUPT, "%s: missing tensor %s",
                            f->source, name);
    if (t->dtype != SIMCLR__DTYPE_F32)
        return simclr__fail(err, SIMCLR_ERR_CORRUPT,
                            "%s: tensor %s has dtype %s, expected F32",
                            f->source, name, dtypes[t->dtype].name);

    same = t->ndim == ndim;
    for (i = 0; same && i < ndim; i++)
        same = t->shape[i] == shape[i];
    if (!same)
        return simclr__fail(err, SIMCLR_ERR_SHAPE,
                            "%s: tensor %s has shape %s, expected %s",
                            f->source, name,
                            format_shape(t->ndim, t->shape, have, sizeof(have)),
                            format_shape(ndim, shape, want, sizeof(want)));
    if (!dst && t->nbytes > 0)
        return simclr__fail(err, SIMCLR_ERR_INVALID_ARGUMENT,
                            "%s: read %s: the destination is NULL", f->source,
                            name);

    if (t->nbytes > 0)
        memcpy(dst, t->data, t->nbytes);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (size_t k = 0; k < t->nbytes / 4; k++) {
        uint32_t v;

        memcpy(&v, dst + k, 4);
        v = __builtin_bswap32(v);
        memcpy(dst + k, &v, 4);
    }
#endif
    return SIMCLR_OK;
}

/* ---- writing ------------------------------------------------------------ */

struct simclr__st_writer {
    simclr__st_tensor *tensors; /* in insertion order; names owned */
    size_t count, cap;
    char **meta_keys;
    char **meta_values;
    size_t meta_count, meta_cap;
};

simclr_status simclr__st_writer_create(simclr__st_writer **out)
{
    if (!out)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "safetensors writer: the output pointer is NULL");
    *out = simclr__calloc(1, sizeof(**out));
    if (!*out)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                            "safetensors writer: out of memory");
    return SIMCLR_OK;
}

void simclr__st_writer_destroy(simclr__st_writer *w)
{
    size_t i;

    if (!w)
        return;
    for (i = 0; i < w->count; i++)
        simclr__free((char *)w->tensors[i].name);
    for (i = 0; i < w->meta_count; i++) {
        simclr__free(w->meta_keys[i]);
        simclr__free(w->meta_values[i]);
    }
    simclr__free(w->tensors);
    simclr__free(w->meta_keys);
    simclr__free(w->meta_values);
    simclr__free(w);
}

simclr_status simclr__st_add(simclr__st_writer *w, const char *name,
                             simclr__dtype dtype, uint32_t ndim,
                             const uint64_t *shape, const void *data)
{
    uint64_t elements = 1, nbytes;
    bool zero = false, overflow = false;
    simclr__st_tensor *t;
    uint32_t i;
    size_t k;

    if (!w || !name || (ndim > 0 && !shape))
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "safetensors writer: add %s: NULL argument",
                            name ? name : "(NULL)");
    if (strcmp(name, "__metadata__") == 0 || !dtype_valid(dtype) ||
        ndim > SIMCLR__ST_MAX_DIMS)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "safetensors writer: tensor %s: %s", name,
                            !dtype_valid(dtype) ? "unknown dtype"
                            : ndim > SIMCLR__ST_MAX_DIMS
                                ? "too many dimensions"
                                : "the name is reserved");
    for (k = 0; k < w->count; k++)
        if (strcmp(w->tensors[k].name, name) == 0)
            return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                                "safetensors writer: tensor %s is added "
                                "twice",
                                name);
    for (i = 0; i < ndim; i++)
        zero = zero || shape[i] == 0;
    for (i = 0; i < ndim && !zero && !overflow; i++)
        overflow = __builtin_mul_overflow(elements, shape[i], &elements);
    if (zero)
        elements = 0;
    if (overflow ||
        __builtin_mul_overflow(elements, (uint64_t)dtypes[dtype].size,
                               &nbytes) ||
        nbytes > SIZE_MAX)
        return simclr__fail(NULL, SIMCLR_ERR_LIMIT,
                            "safetensors writer: tensor %s: the shape is too "
                            "large",
                            name);
    if (!data && nbytes > 0)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "safetensors writer: tensor %s: data is NULL",
                            name);

    if (w->count == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        simclr__st_tensor *grown =
            simclr__realloc_array(w->tensors, cap, sizeof(*grown));

        if (!grown)
            return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                                "safetensors writer: tensor %s: out of "
                                "memory",
                                name);
        w->tensors = grown;
        w->cap = cap;
    }
    t = &w->tensors[w->count];
    memset(t, 0, sizeof(*t));
    t->name = simclr__strdup(name);
    if (!t->name)
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                            "safetensors writer: tensor %s: out of memory",
                            name);
    t->dtype = dtype;
    t->ndim = ndim;
    for (i = 0; i < ndim; i++)
        t->shape[i] = shape[i];
    t->data = data;
    t->nbytes = (size_t)nbytes;
    w->count++;
    return SIMCLR_OK;
}

simclr_status simclr__st_add_metadata(simclr__st_writer *w, const char *key,
                                      const char *value)
{
    size_t i;

    if (!w || !key || !value)
        return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                            "safetensors writer: metadata: NULL argument");
    for (i = 0; i < w->meta_count; i++)
        if (strcmp(w->meta_keys[i], key) == 0)
            return simclr__fail(NULL, SIMCLR_ERR_INVALID_ARGUMENT,
                                "safetensors writer: metadata %s is added "
                                "twice",
                                key);
    if (w->meta_count == w->meta_cap) {
        size_t cap = w->meta_cap ? 2 * w->meta_cap : 8;
        char **keys = simclr__realloc_array(w->meta_keys, cap, sizeof(*keys));
        char **values;

        if (!keys)
            return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                                "safetensors writer: metadata: out of memory");
        w->meta_keys = keys;
        values = simclr__realloc_array(w->meta_values, cap, sizeof(*values));
        if (!values)
            return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                                "safetensors writer: metadata: out of memory");
        w->meta_values = values;
        w->meta_cap = cap;
    }
    w->meta_keys[w->meta_count] = simclr__strdup(key);
    w->meta_values[w->meta_count] = simclr__strdup(value);
    if (!w->meta_keys[w->meta_count] || !w->meta_values[w->meta_count]) {
        simclr__free(w->meta_keys[w->meta_count]);
        simclr__free(w->meta_values[w->meta_count]);
        return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                            "safetensors writer: metadata: out of memory");
    }
    w->meta_count++;
    return SIMCLR_OK;
}

/* Add @p value to @p obj under @p key, taking ownership; false when json-c
 * runs out of memory. */
static bool put(json_object *obj, const char *key, json_object *value)
{
    if (!value)
        return false;
    if (json_object_object_add(obj, key, value) != 0) {
        json_object_put(value);
        return false;
    }
    return true;
}

static bool append(json_object *array, json_object *value)
{
    if (!value)
        return false;
    if (json_object_array_add(array, value) != 0) {
        json_object_put(value);
        return false;
    }
    return true;
}

/* The header object: "__metadata__" first, then every tensor in order. */
static json_object *build_header(const simclr__st_writer *w)
{
    json_object *root = json_object_new_object();
    uint64_t offset = 0;
    bool ok = root != NULL;
    size_t i;

    if (ok && w->meta_count > 0) {
        json_object *meta = json_object_new_object();

        ok = put(root, "__metadata__", meta);
        for (i = 0; ok && i < w->meta_count; i++)
            ok = put(meta, w->meta_keys[i],
                     json_object_new_string(w->meta_values[i]));
    }
    for (i = 0; ok && i < w->count; i++) {
        const simclr__st_tensor *t = &w->tensors[i];
        json_object *entry = json_object_new_object();
        json_object *shape = NULL, *offsets = NULL;
        uint32_t d;

        /* put() owns what it is given, so each container goes into its
         * parent first and is filled afterwards. */
        ok = put(root, t->name, entry) &&
             put(entry, "dtype", json_object_new_string(dtypes[t->dtype].name));
        if (ok) {
            shape = json_object_new_array();
            ok = put(entry, "shape", shape);
        }
        for (d = 0; ok && d < t->ndim; d++)
            ok = append(shape, json_object_new_uint64(t->shape[d]));
        if (ok) {
            offsets = json_object_new_array();
            ok = put(entry, "data_offsets", offsets);
        }
        ok = ok && append(offsets, json_object_new_uint64(offset)) &&
             append(offsets, json_object_new_uint64(offset + t->nbytes));
        offset += t->nbytes;
    }
    if (!ok) {
        json_object_put(root);
        return NULL;
    }
    return root;
}

simclr_status simclr__st_write(const simclr__st_writer *w, const char *path,
                               simclr__error *err)
{
    static const char spaces[8] = "        ";
    simclr__atomic_file af;
    json_object *header;
    const char *text;
    size_t len, pad, i;
    uint8_t prefix[8];
    char why[128];
    bool ok;
    simclr_status st;

    if (!w || !path)
        return simclr__fail(err, SIMCLR_ERR_INVALID_ARGUMENT,
                            "safetensors writer: the %s is NULL",
                            w ? "path" : "writer");

    header = build_header(w);
    text = header ? json_object_to_json_string_ext(
                        header,
                        JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
                  : NULL;
    if (!text) {
        json_object_put(header);
        return simclr__fail(err, SIMCLR_ERR_NOMEM,
                            "%s: cannot build the safetensors header", path);
    }
    len = strlen(text);
    pad = (8 - len % 8) % 8;
    for (i = 0; i < 8; i++)
        prefix[i] = (uint8_t)((uint64_t)(len + pad) >> (8 * i));

    st = simclr__atomic_open(&af, path, err);
    if (st != SIMCLR_OK) {
        json_object_put(header);
        return st;
    }
    ok = fwrite(prefix, 1, 8, af.file) == 8 &&
         fwrite(text, 1, len, af.file) == len &&
         fwrite(spaces, 1, pad, af.file) == pad;
    for (i = 0; ok && i < w->count; i++)
        ok = w->tensors[i].nbytes == 0 ||
             fwrite(w->tensors[i].data, 1, w->tensors[i].nbytes, af.file) ==
                 w->tensors[i].nbytes;
    json_object_put(header);
    if (!ok) {
        st = simclr__fail(err, SIMCLR_ERR_IO, "%s: cannot write %s: %s", path,
                          af.tmp, strerror_r(errno, why, sizeof(why)));
        simclr__atomic_discard(&af);
        return st;
    }
    return simclr__atomic_commit(&af, err);
}
