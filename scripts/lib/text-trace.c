// Which functions a worker runs, in the order it first runs them: an LD_PRELOAD library for scripts/text-order (never
// in the image).
//
// Before the executable's own initialisers run, it reads the executable's symbol table and writes a breakpoint (int3)
// over the first byte of every function in it. The first call of each function traps once: the handler puts the
// byte back, writes the function's address (the offset from the executable's load address, in hex, one per line) to a
// file and lets the call go on. The code pages become private copies while traced (the breakpoints are writes), so a
// traced process's memory says nothing; its file of addresses is the point.
//
// Settings (environment):
//   BRIDGE_TEXT_TRACE_DIR   the folder the traces go to, one file per process: <executable name>.<pid>
//   BRIDGE_TEXT_TRACE_BIN   only executables in this folder are traced (the broker and python are not)
// The Swift runtime's crash handler must be off (SWIFT_BACKTRACE=enable=no): it would take SIGTRAP from this one.
// A trap that is not one of these breakpoints gets the default action, as it would have without the tracer.
#define _GNU_SOURCE
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <ucontext.h>
#include <unistd.h>

static uintptr_t load_base;
static uintptr_t *entries;         // every function's address, sorted
static unsigned char *saved;       // the byte the breakpoint replaced, by function
static unsigned char *trapped;     // 1 once a function has trapped, by function
static size_t entry_count;
static int trace_fd = -1;

static void default_action(int sig) {
  signal(sig, SIG_DFL);
  raise(sig);
}

static long entry_at(uintptr_t address) {
  size_t low = 0, high = entry_count;
  while (low < high) {
    size_t middle = low + (high - low) / 2;
    if (entries[middle] < address) low = middle + 1; else high = middle;
  }
  return low < entry_count && entries[low] == address ? (long)low : -1;
}

static void on_trap(int sig, siginfo_t *info, void *context) {
  (void)info;
  ucontext_t *state = context;
  uintptr_t address = (uintptr_t)state->uc_mcontext.gregs[REG_RIP] - 1;  // int3 leaves the pc after itself
  long entry = entry_at(address);
  if (entry < 0) {
    default_action(sig);
    return;
  }
  volatile unsigned char *code = (volatile unsigned char *)address;
  if (__atomic_exchange_n(&trapped[entry], 1, __ATOMIC_SEQ_CST) == 0) {
    *code = saved[entry];
    char line[24];
    int length = snprintf(line, sizeof line, "%lx\n", (unsigned long)(address - load_base));
    if (write(trace_fd, line, (size_t)length) != length) { /* a lost line: that function is not ordered */ }
  } else {
    while (*code == 0xCC && saved[entry] != 0xCC) { }  // another thread trapped first and is putting the byte back
  }
  state->uc_mcontext.gregs[REG_RIP] = (greg_t)address;
}

static int by_address(const void *a, const void *b) {
  uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
  return x < y ? -1 : x > y;
}

// The addresses (from the file's point of view) of the executable's functions that lie in [text_low, text_high).
static int read_functions(const char *path, uintptr_t text_low, uintptr_t text_high) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat info;
  if (fd < 0 || fstat(fd, &info) != 0) return -1;
  const unsigned char *file = mmap(NULL, (size_t)info.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (file == MAP_FAILED) return -1;
  const Elf64_Ehdr *header = (const Elf64_Ehdr *)file;
  const Elf64_Shdr *sections = (const Elf64_Shdr *)(file + header->e_shoff);
  for (int s = 0; s < header->e_shnum; s++) {
    if (sections[s].sh_type != SHT_SYMTAB) continue;
    const Elf64_Sym *symbols = (const Elf64_Sym *)(file + sections[s].sh_offset);
    size_t count = sections[s].sh_size / sizeof(Elf64_Sym);
    entries = malloc(count * sizeof *entries);
    for (size_t i = 0; i < count; i++) {
      if (ELF64_ST_TYPE(symbols[i].st_info) != STT_FUNC || symbols[i].st_size == 0) continue;
      if (symbols[i].st_value < text_low || symbols[i].st_value >= text_high) continue;
      entries[entry_count++] = symbols[i].st_value;
    }
  }
  munmap((void *)file, (size_t)info.st_size);
  if (!entry_count) return -1;
  qsort(entries, entry_count, sizeof *entries, by_address);
  size_t unique = 1;  // aliases share an address
  for (size_t i = 1; i < entry_count; i++) if (entries[i] != entries[unique - 1]) entries[unique++] = entries[i];
  entry_count = unique;
  return 0;
}

__attribute__((constructor)) static void start_tracing(void) {
  const char *folder = getenv("BRIDGE_TEXT_TRACE_DIR"), *bin = getenv("BRIDGE_TEXT_TRACE_BIN");
  if (!folder || !bin) return;
  char executable[PATH_MAX], bin_real[PATH_MAX];
  ssize_t length = readlink("/proc/self/exe", executable, sizeof executable - 1);
  if (length < 0 || !realpath(bin, bin_real)) return;
  executable[length] = 0;
  size_t bin_length = strlen(bin_real);
  if (strncmp(executable, bin_real, bin_length) != 0 || executable[bin_length] != '/') return;

  uintptr_t text_start = 0, text_end = 0;
  FILE *maps = fopen("/proc/self/maps", "r");
  if (!maps) return;
  char row[PATH_MAX + 128];
  while (fgets(row, sizeof row, maps)) {
    unsigned long start, end, offset, inode;
    char permissions[5], device[16], path[PATH_MAX] = "";
    if (sscanf(row, "%lx-%lx %4s %lx %15s %lu %4095s", &start, &end, permissions, &offset, device, &inode, path) < 7) continue;
    if (strcmp(path, executable) != 0) continue;
    if (offset == 0 && !load_base) load_base = start;
    if (permissions[2] == 'x') { text_start = start; text_end = end; }
  }
  fclose(maps);
  if (!text_start || !load_base) return;
  if (read_functions(executable, text_start - load_base, text_end - load_base) != 0) {
    fprintf(stderr, "text-trace: no function symbols in %s (stripped?): not traced\n", executable);
    return;
  }

  char trace_path[PATH_MAX];
  snprintf(trace_path, sizeof trace_path, "%s/%s.%d", folder, strrchr(executable, '/') + 1, (int)getpid());
  trace_fd = open(trace_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  saved = malloc(entry_count);
  trapped = calloc(entry_count, 1);
  if (trace_fd < 0 || !saved || !trapped) return;
  if (mprotect((void *)text_start, text_end - text_start, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) return;
  struct sigaction action = {0};
  action.sa_sigaction = on_trap;
  action.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigaction(SIGTRAP, &action, NULL);
  for (size_t i = 0; i < entry_count; i++) {
    entries[i] += load_base;
    unsigned char *code = (unsigned char *)entries[i];
    saved[i] = *code;
    *code = 0xCC;
  }
}
