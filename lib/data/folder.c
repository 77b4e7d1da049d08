/*
 * Folders of image files. In `root/<class>/<file>` layout, the class
 * subfolders sorted by name are labels 0, 1, ...; a root without
 * subfolders (or the `unlabeled` option) is one unlabeled set.
 *
 * Opening only lists paths: files are recognised by extension, each
 * folder is entered once however many symbolic links lead to it (which
 * also makes link loops harmless), and empty files are bad files at once.
 * Pixels are decoded when an item is asked for, so a file that turns out
 * to be corrupt is found then, and counted once.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "data_internal.h"

/* A growing list of paths, with a label per path. */
typedef struct path_list {
    char **paths;
    int32_t *labels;
    size_t count, capacity;
} path_list;

/* Folders already entered, by device and inode. */
typedef struct visited {
    dev_t *dev;
    ino_t *ino;
    size_t count, capacity;
} visited;

typedef struct walk {
    simclr_dataset *ds;
    path_list items;
    visited seen;
    bool recursive;
} walk;

static simclr_status no_memory(const walk *w)
{
    return simclr__fail(NULL, SIMCLR_ERR_NOMEM,
                        "dataset %s: out of memory while listing files",
                        w->ds->root);
}

static bool grow(void **array, size_t elem, size_t *capacity, size_t need)
{
    size_t cap = *capacity ? *capacity : 64;
    void *p;

    if (need <= *capacity)
        return true;
    while (cap < need)
        if (!simclr__mul_size(cap, 2, &cap))
            return false;
    p = simclr__realloc_array(*array, cap, elem);
    if (!p)
        return false;
    *array = p;
    *capacity = cap;
    return true;
}

static bool list_push(path_list *l, char *path, int32_t label)
{
    size_t paths_cap = l->capacity, labels_cap = l->capacity;

    if (l->count == l->capacity) {
        if (!grow((void **)&l->paths, sizeof(char *), &paths_cap,
                  l->count + 1) ||
            !grow((void **)&l->labels, sizeof(int32_t), &labels_cap,
                  l->count + 1))
            return false;
        l->capacity = paths_cap;
    }
    l->paths[l->count] = path;
    l->labels[l->count] = label;
    l->count++;
    return true;
}

/* True the first time a folder is met, false after. */
static simclr_status first_visit(walk *w, const struct stat *sb, bool *first)
{
    visited *v = &w->seen;
    size_t i;

    for (i = 0; i < v->count; i++) {
        if (v->dev[i] == sb->st_dev && v->ino[i] == sb->st_ino) {
            *first = false;
            return SIMCLR_OK;
        }
    }
    if (v->count == v->capacity) {
        size_t dev_cap = v->capacity, ino_cap = v->capacity;

        if (!grow((void **)&v->dev, sizeof(dev_t), &dev_cap, v->count + 1) ||
            !grow((void **)&v->ino, sizeof(ino_t), &ino_cap, v->count + 1))
            return no_memory(w);
        v->capacity = dev_cap;
    }
    v->dev[v->count] = sb->st_dev;
    v->ino[v->count] = sb->st_ino;
    v->count++;
    *first = true;
    return SIMCLR_OK;
}

static bool has_image_extension(const char *name)
{
    static const char *const extensions[] = {".png", ".jpg", ".jpeg"};
    const char *dot = strrchr(name, '.');
    size_t i;

    if (!dot)
        return false;
    for (i = 0; i < SIMCLR__ARRAY_SIZE(extensions); i++)
        if (strcasecmp(dot, extensions[i]) == 0)
            return true;
    return false;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entry names of @p dir, sorted bytewise, without "." files. */
static simclr_status read_names(walk *w, const char *dir, char ***names,
                                size_t *count)
{
    size_t cap = 0;
    DIR *d = opendir(dir);
    struct dirent *e;

    *names = NULL;
    *count = 0;
    if (!d)
        return simclr__fail(NULL, SIMCLR_ERR_IO, "dataset %s: %s", dir,
                            strerror(errno));
    while ((e = readdir(d)) != NULL) {
        char *copy;

        if (e->d_name[0] == '.')
            continue;
        if (!grow((void **)names, sizeof(char *), &cap, *count + 1) ||
            !(copy = simclr__strdup(e->d_name))) {
            closedir(d);
            return no_memory(w);
        }
        (*names)[(*count)++] = copy;
    }
    closedir(d);
    if (*count > 1)
        qsort(*names, *count, sizeof(char *), compare_names);
    return SIMCLR_OK;
}

static void free_names(char **names, size_t count)
{
    size_t i;

    if (!names)
        return;
    for (i = 0; i < count; i++)
        simclr__free(names[i]);
    simclr__free(names);
}

/* One file found in a walk: an image to list, a bad one, or neither. */
static simclr_status add_file(walk *w, char *path, const struct stat *sb,
                              int32_t label)
{
    simclr_status st;

    if (sb && !S_ISREG(sb->st_mode)) {
        simclr__free(path);
        return SIMCLR_OK;
    }
    if (!sb || sb->st_size == 0) {
        st = sb ? simclr__fail(NULL, SIMCLR_ERR_CORRUPT,
                               "dataset %s: empty file", path)
                : simclr__fail(NULL, SIMCLR_ERR_IO, "dataset %s: %s", path,
                               strerror(errno));
        st = simclr__dataset_bad_file(w->ds, path, st);
        simclr__free(path);
        return st;
    }
    if (!list_push(&w->items, path, label)) {
        simclr__free(path);
        return no_memory(w);
    }
    return SIMCLR_OK;
}

/*
 * List the images under @p dir with label @p label, in name order,
 * entering subfolders when the walk is recursive (or @p depth is 0).
 */
static simclr_status walk_dir(walk *w, const char *dir, int32_t label,
                              int depth)
{
    char **names;
    size_t count, i;
    simclr_status st = read_names(w, dir, &names, &count);

    for (i = 0; st == SIMCLR_OK && i < count; i++) {
        char *path = simclr__path_join(dir, names[i]);
        struct stat sb;
        bool ok, first;

        if (!path) {
            st = no_memory(w);
            break;
        }
        ok = stat(path, &sb) == 0;
        if (ok && S_ISDIR(sb.st_mode)) {
            if (w->recursive &&
                (st = first_visit(w, &sb, &first)) == SIMCLR_OK && first)
                st = walk_dir(w, path, label, depth + 1);
            simclr__free(path);
        } else if (has_image_extension(names[i])) {
            st = add_file(w, path, ok ? &sb : NULL, label);
        } else {
            simclr__free(path);
        }
    }
    free_names(names, count);
    return st;
}

/* The class subfolders of @p root, sorted; none means a flat folder. */
static simclr_status find_classes(walk *w, const char *root, char ***classes,
                                  size_t *num_classes)
{
    char **names;
    size_t count, i, n = 0;
    simclr_status st = read_names(w, root, &names, &count);

    *classes = NULL;
    *num_classes = 0;
    if (st != SIMCLR_OK)
        return st;
    for (i = 0; i < count; i++) {
        char *path = simclr__path_join(root, names[i]);
        struct stat sb;
        bool dir;

        if (!path) {
            free_names(names, count);
            return no_memory(w);
        }
        dir = stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
        simclr__free(path);
        if (dir) {
            char *keep = names[i];

            names[i] = NULL;
            names[n++] = keep;
        } else {
            simclr__free(names[i]);
            names[i] = NULL;
        }
    }
    *classes = names;
    *num_classes = n;
    return SIMCLR_OK;
}

static simclr_status walk_classes(walk *w, const char *root, char **classes,
                                  size_t num_classes)
{
    simclr_status st = SIMCLR_OK;
    size_t i;

    for (i = 0; i < num_classes && st == SIMCLR_OK; i++) {
        char *dir = simclr__path_join(root, classes[i]);
        struct stat sb;
        bool first = true;

        if (!dir)
            return no_memory(w);
        if (stat(dir, &sb) == 0)
            st = first_visit(w, &sb, &first);
        if (st == SIMCLR_OK && first)
            st = walk_dir(w, dir, (int32_t)i, 1);
        simclr__free(dir);
    }
    return st;
}

/* Hand the listing over to the dataset: paths, labels, class names. */
static simclr_status adopt_listing(walk *w, char **classes, size_t num_classes,
                                   bool labelled)
{
    simclr_dataset *ds = w->ds;
    size_t i;

    ds->paths = w->items.paths;
    ds->count = w->items.count;
    ds->labels = labelled ? w->items.labels : NULL;
    if (!labelled)
        simclr__free(w->items.labels);
    w->items.paths = NULL;
    w->items.labels = NULL;
    w->items.count = 0;

    ds->bad = simclr__calloc(ds->count ? ds->count : 1, sizeof(*ds->bad));
    if (!ds->bad)
        return no_memory(w);
    for (i = 0; i < ds->count; i++)
        atomic_init(&ds->bad[i], 0);
    if (!labelled)
        return SIMCLR_OK;
    ds->num_classes = num_classes;
    ds->class_names = classes;
    return SIMCLR_OK;
}

simclr_status simclr__read_folder(simclr_dataset *ds, const char *path,
                                  const simclr_dataset_options *opts)
{
    walk w = {.ds = ds, .recursive = opts->recursive != 0};
    char **classes = NULL;
    size_t num_classes = 0, i;
    struct stat sb;
    bool first;
    simclr_status st;

    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return simclr__fail(NULL, SIMCLR_ERR_IO, "dataset %s: not a folder",
                            path);
    st = first_visit(&w, &sb, &first);
    if (st == SIMCLR_OK && !opts->unlabeled)
        st = find_classes(&w, path, &classes, &num_classes);
    if (st == SIMCLR_OK && num_classes > 0) {
        st = walk_classes(&w, path, classes, num_classes);
    } else if (st == SIMCLR_OK) {
        /* A flat folder: the root's own files, and below when recursive. */
        st = walk_dir(&w, path, -1, 0);
    }
    if (st == SIMCLR_OK) {
        st = adopt_listing(&w, classes, num_classes, num_classes > 0);
        if (num_classes > 0)
            classes = NULL;
    }

    free_names(classes, num_classes);
    for (i = 0; i < w.items.count; i++)
        simclr__free(w.items.paths[i]);
    simclr__free(w.items.paths);
    simclr__free(w.items.labels);
    simclr__free(w.seen.dev);
    simclr__free(w.seen.ino);
    return st;
}

/* ---- decoding an item ---------------------------------------------------- */

/* The library's PNG and JPEG decoder, with the dataset's colour mode and
 * otherwise its default limits. Thread-safe, as the workers need. */
static simclr_status decode_path(const simclr_dataset *ds, const char *path,
                                 simclr_image **out)
{
    simclr_decode_options o;

    simclr_decode_options_init(&o);
    o.color = ds->channels == 1   ? SIMCLR_COLOR_GRAY
              : ds->channels == 3 ? SIMCLR_COLOR_RGB
                                  : SIMCLR_COLOR_KEEP;
    return simclr_image_decode_file(path, &o, out);
}

simclr_status simclr__folder_get(simclr_dataset *ds, size_t index,
                                 simclr_image **out)
{
    const char *path = ds->paths[index];
    simclr_status st = decode_path(ds, path, out);

    if (st == SIMCLR_OK)
        return SIMCLR_OK;
    /* The message must name the file, whatever the decoder said. */
    if (!strstr(simclr_last_error(), path)) {
        char why[SIMCLR__ERROR_MAX];

        snprintf(why, sizeof(why), "%s", simclr_last_error());
        simclr__fail(NULL, st, "%s: %s", path, why);
    }
    if (simclr__status_is_bad_file(st) &&
        atomic_exchange(&ds->bad[index], 1) == 0) {
        simclr__dataset_bad_file(ds, path, st);
        return st;
    }
    pthread_mutex_lock(&ds->err_lock);
    simclr__error_adopt(&ds->err);
    pthread_mutex_unlock(&ds->err_lock);
    return st;
}
