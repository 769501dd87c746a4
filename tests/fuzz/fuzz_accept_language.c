/* Accept-Language for the public page (node/routes_pages.c, RFC 9110 §12.5.4): any bytes give
 * "en" or "ko" without reading past the header's NUL or its first 512 bytes (ASan), and a
 * header naming only ko (at any q > 0) gives "ko". */
#include "fuzz_common.h"
#include "node/pages.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *h = fuzz_strndup(data, size);
    const char *lang = ca_page_lang_from_header(h);
    if (strcmp(lang, "en") != 0 && strcmp(lang, "ko") != 0)
        abort();
    free(h);
    return 0;
}
