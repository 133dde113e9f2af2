/* test_strbuf.c — base/strbuf: appends of every kind, growth past the first
 * allocation, rc_sb_take's empty and normal cases, and JSON escaping. */
#include "tests/testutil.h"

#include "base/strbuf.h"

static void test_append_and_take(void **state)
{
    (void)state;
    rc_strbuf b = { 0 };
    char *s = rc_sb_take(&b); /* nothing appended: "", not NULL */
    assert_non_null(s);
    assert_string_equal(s, "");
    free(s);
    rc_sb_putn(&b, "abcdef", 3);
    rc_sb_puts(&b, "-");
    rc_sb_printf(&b, "%d/%s", 42, "x");
    assert_int_equal(b.len, strlen("abc-42/x"));
    assert_string_equal(b.s, "abc-42/x");
    for (int i = 0; i < 1000; i++) rc_sb_puts(&b, "0123456789"); /* several reallocations */
    assert_int_equal(b.len, 8 + 10000);
    s = rc_sb_take(&b);
    assert_non_null(s);
    assert_int_equal(strlen(s), 8 + 10000);
    assert_memory_equal(s + 8 + 9990, "0123456789", 11);
    free(s);
    assert_null(b.s); /* take leaves the buffer empty and reusable */
    assert_int_equal(b.len, 0);
}

static void test_json(void **state)
{
    (void)state;
    rc_strbuf b = { 0 };
    rc_sb_json_str(&b, "q\"b\\\b\f\n\r\t\x01 θ");
    rc_sb_puts(&b, ",");
    rc_sb_json_num(&b, 0.1);
    rc_sb_puts(&b, ",");
    rc_sb_json_num(&b, INFINITY);
    assert_string_equal(b.s, "\"q\\\"b\\\\\\b\\f\\n\\r\\t\\u0001 θ\",0.1,null");
    rc_sb_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_take),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
