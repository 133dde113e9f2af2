/* h5testutil.h — HDF5 checks the trace tests share (after testutil.h). */
#ifndef RC_H5TESTUTIL_H
#define RC_H5TESTUTIL_H
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

/* Reads a scalar string attribute (caller frees); checks it is a
 * variable-length UTF-8 string (h5py reads those as str; fixed-length ones
 * come back as bytes). */
static inline char *rc_test_str_attr(hid_t loc, const char *obj, const char *name)
{
    hid_t a = H5Aopen_by_name(loc, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) print_error("missing attribute %s of %s\n", name, obj);
    assert_true(a >= 0);
    hid_t t = H5Aget_type(a);
    assert_int_equal(H5Tget_class(t), H5T_STRING);
    assert_int_equal(H5Tis_variable_str(t), 1);
    assert_int_equal(H5Tget_cset(t), H5T_CSET_UTF8);
    char *v = NULL;
    assert_true(H5Aread(a, t, &v) >= 0);
    assert_non_null(v);
    char *s = strdup(v);
    H5free_memory(v);
    H5Tclose(t);
    H5Aclose(a);
    return s;
}

/* Dataset obj of f read as native type (elements of esize bytes) into a
 * malloc'd buffer; *n its element count. */
static inline void *rc_test_read_all(hid_t f, const char *obj, hid_t native, size_t esize, size_t *n)
{
    hid_t d = H5Dopen2(f, obj, H5P_DEFAULT);
    if (d < 0) fail_msg("no dataset %s", obj);
    hid_t sp = H5Dget_space(d);
    *n = (size_t)H5Sget_simple_extent_npoints(sp);
    void *buf = malloc((*n ? *n : 1) * esize);
    assert_non_null(buf);
    if (*n) assert_true(H5Dread(d, native, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    H5Sclose(sp);
    H5Dclose(d);
    return buf;
}
#endif
