/* Node configuration (node/config.c). The input is read two ways:
 *   - as "section.key=value" lines, each given to ca_config_set, then ca_config_validate,
 *     ca_config_passphrase_path and ca_config_print (to /dev/null);
 *   - as an INI file: written to a memfd and loaded with ca_config_load("/proc/self/fd/N").
 * Every error must come with a message; nothing may crash, overrun or leak. */
#include "node/config.h"
#include "fuzz_common.h"

#include <sys/mman.h>
#include <unistd.h>

static FILE *devnull;

static void set_lines(char *text)
{
    ca_config cfg;
    ca_config_defaults(&cfg);
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char *dot = strchr(line, '.');
        if (!dot)
            continue;
        *dot = '\0';
        ca_errbuf eb = {{0}};
        ca_err err = ca_config_set(&cfg, line, dot + 1, eq + 1, &eb);
        if (err != CA_OK) {
            FUZZ_CHECK(err == CA_ERR_CONFIG);
            FUZZ_CHECK(eb.msg[0] != '\0');
        }
    }
    ca_errbuf eb = {{0}};
    if (ca_config_validate(&cfg, &eb) != CA_OK)
        FUZZ_CHECK(eb.msg[0] != '\0');
    char path[CA_CONFIG_STR_MAX + 16];
    const char *p = ca_config_passphrase_path(&cfg, path, sizeof path);
    FUZZ_CHECK(p != NULL);
    char small[8];
    (void)ca_config_passphrase_path(&cfg, small, sizeof small);
    ca_config_print(&cfg, devnull);
}

static void load_file(const uint8_t *data, size_t size)
{
    int fd = memfd_create("fuzz_config", MFD_CLOEXEC);
    FUZZ_CHECK(fd >= 0);
    size_t off = 0;
    while (off < size) {
        ssize_t n = write(fd, data + off, size - off);
        FUZZ_CHECK(n > 0);
        off += (size_t)n;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ca_config cfg;
    ca_errbuf eb = {{0}};
    if (ca_config_load(&cfg, path, &eb) != CA_OK)
        FUZZ_CHECK(eb.msg[0] != '\0');
    close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!devnull) {
        devnull = fopen("/dev/null", "w");
        FUZZ_CHECK(devnull != NULL);
    }
    if (size > 64 * 1024)
        return 0;
    char *text = fuzz_strndup(data, size);
    set_lines(text);
    free(text);
    load_file(data, size);
    return 0;
}
