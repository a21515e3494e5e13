/* Sets VER_FLG_WEAK on one version requirement (e.g. GLIBCXX_3.4.32) in an ELF64 little-endian file's
 * .gnu.version_r, so glibc's loader treats that version as optional. patchelf has no option for this.
 * Usage: weaken_verneed FILE VERSION   (exit 0 when set or already set, 2 when the version is absent) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHT_GNU_VERNEED 0x6ffffffe
#define VER_FLG_WEAK 0x2

static uint16_t u16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t u32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t u64(const unsigned char *p) { return (uint64_t)u32(p) | (uint64_t)u32(p + 4) << 32; }

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s FILE VERSION\n", argv[0]); return 1; }
    FILE *f = fopen(argv[1], "r+b");
    if (!f) { perror(argv[1]); return 1; }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *elf = malloc((size_t)size);
    if (!elf || fread(elf, 1, (size_t)size, f) != (size_t)size) { fprintf(stderr, "read failed\n"); return 1; }
    if (memcmp(elf, "\x7f" "ELF", 4) != 0 || elf[4] != 2 || elf[5] != 1) { fprintf(stderr, "not ELF64 LE\n"); return 1; }

    uint64_t shoff = u64(elf + 0x28);
    uint16_t shentsize = u16(elf + 0x3A), shnum = u16(elf + 0x3C);
    for (uint16_t i = 0; i < shnum; i++) {
        const unsigned char *sh = elf + shoff + (uint64_t)i * shentsize;
        if (u32(sh + 4) != SHT_GNU_VERNEED) continue;
        uint64_t off = u64(sh + 0x18);
        const unsigned char *strsh = elf + shoff + (uint64_t)u32(sh + 0x28) * shentsize;
        const char *strtab = (const char *)elf + u64(strsh + 0x18);
        uint64_t need = off;
        for (;;) {
            uint16_t cnt = u16(elf + need + 2);
            uint64_t aux = need + u32(elf + need + 8);
            for (uint16_t a = 0; a < cnt; a++) {
                if (strcmp(strtab + u32(elf + aux + 8), argv[2]) == 0) {
                    uint16_t flags = u16(elf + aux + 4) | VER_FLG_WEAK;
                    unsigned char le[2] = { (unsigned char)(flags & 0xff), (unsigned char)(flags >> 8) };
                    fseek(f, (long)(aux + 4), SEEK_SET);
                    fwrite(le, 1, 2, f);
                    fclose(f);
                    return 0;
                }
                uint32_t next = u32(elf + aux + 12);
                if (!next) break;
                aux += next;
            }
            uint32_t nextNeed = u32(elf + need + 12);
            if (!nextNeed) break;
            need += nextNeed;
        }
    }
    fprintf(stderr, "%s: version %s not required\n", argv[1], argv[2]);
    fclose(f);
    return 2;
}
