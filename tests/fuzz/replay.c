/* replay.c - runs a fuzz target's corpus without libFuzzer, so that `make
 * check` replays every seed and every crash ever found (built with ASan and
 * UBSan; a finding aborts the run, which then has no summary line and fails).
 * Usage: replay DIR...  Each file is one test. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RL_REPLAY_MAX_INPUT (32u * 1024 * 1024)

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    uint8_t *buf = malloc(RL_REPLAY_MAX_INPUT);
    size_t n = buf ? fread(buf, 1, RL_REPLAY_MAX_INPUT, f) : 0;
    fclose(f);
    if (!buf)
        return -1;
    /* An exact-size copy, so that ASan sees any read past the end. */
    uint8_t *exact = malloc(n ? n : 1);
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    for (int a = 1; a < argc; a++) {
        DIR *d = opendir(argv[a]);
        struct dirent *e;
        if (!d) {
            printf("FAIL - cannot open %s\n", argv[a]);
            failed++;
            continue;
        }
        while ((e = readdir(d))) {
            char path[4096];
            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof path, "%s/%s", argv[a], e->d_name);
            if (run_file(path) == 0) {
                passed++;
            } else {
                printf("FAIL - cannot read %s\n", path);
                failed++;
            }
        }
        closedir(d);
    }
    printf("replayed %d corpus file(s) of %s\n", passed, argc > 1 ? argv[1] : "?");
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
