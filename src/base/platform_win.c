/* platform_win.c - platform.h on Windows x64 (mingw-w64, winpthreads,
 * msvcrt). Compiles to nothing elsewhere. src/base/README.md says what was
 * measured under wine and what real Windows adds. */
#ifdef _WIN32

#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0A00          /* declarations only: FileRenameInfoEx */
#endif
#define WIN32_LEAN_AND_MEAN
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <aclapi.h>
#include <bcrypt.h>
#include <tlhelp32.h>

#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "platform_url.h"

#define WPATH_MAX RL_OS_PATH_MAX     /* UTF-16 units: never more than the UTF-8 bytes */

/* FileRenameInfoEx (Windows 10 1709), which mingw-w64 10 declares only for
 * a _WIN32_WINNT it cannot reach. */
#define RENAME_INFO_EX ((FILE_INFO_BY_HANDLE_CLASS)22)

/* ---------------------------------------------------------- helpers */

/* Windows' error as errno, for the callers' strerror(). */
static int fail_win(DWORD e)
{
    switch (e) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH:
        errno = ENOENT;
        break;
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS:
        errno = EEXIST;
        break;
    case ERROR_ACCESS_DENIED:
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
    case ERROR_PRIVILEGE_NOT_HELD:
        errno = EACCES;
        break;
    case ERROR_DIR_NOT_EMPTY:
        errno = ENOTEMPTY;
        break;
    case ERROR_DIRECTORY:
        errno = ENOTDIR;
        break;
    case ERROR_FILENAME_EXCED_RANGE:
    case ERROR_BUFFER_OVERFLOW:
        errno = ENAMETOOLONG;
        break;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
        errno = ENOSPC;
        break;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
        errno = ENOMEM;
        break;
    case ERROR_WRITE_PROTECT:
        errno = EROFS;
        break;
    case ERROR_NOT_SAME_DEVICE:
        errno = EXDEV;
        break;
    default:
        errno = EIO;
        break;
    }
    return -1;
}

/* UTF-8 -> UTF-16, NUL included. 0, or -1 with errno. */
static int wide(const char *s, wchar_t *out, size_t cap)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, out, (int)cap);
    if (n <= 0) {
        errno = GetLastError() == ERROR_INSUFFICIENT_BUFFER ? ENAMETOOLONG : EINVAL;
        return -1;
    }
    return 0;
}

/* UTF-16 -> UTF-8, NUL included. 0, or -1 with errno. */
static int narrow(const wchar_t *s, char *out, size_t cap)
{
    int n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, s, -1, out, (int)cap, NULL, NULL);
    if (n <= 0) {
        errno = GetLastError() == ERROR_INSUFFICIENT_BUFFER ? ENAMETOOLONG : EINVAL;
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------ owner only */

/* The current user's SID, looked up once (the process's token does not
 * change user). NULL if it cannot be had. */
static PSID user_sid(void)
{
    static INIT_ONCE once = INIT_ONCE_STATIC_INIT;
    static union {
        TOKEN_USER user;
        unsigned char bytes[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
    } info;
    static PSID sid;
    BOOL pending;

    if (InitOnceBeginInitialize(&once, 0, &pending, NULL) && pending) {
        HANDLE token;
        DWORD len;
        if (OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) {
            if (GetTokenInformation(token, TokenUser, &info, sizeof info, &len))
                sid = info.user.User.Sid;
            CloseHandle(token);
        }
        InitOnceComplete(&once, 0, NULL);
    }
    return sid;
}

/* A protected DACL with one ACE: full control for the current user,
 * inherited by what is created in a folder. Built in buf. NULL on error. */
static PACL private_acl(void *buf, DWORD cap, int folder)
{
    PACL acl = buf;
    PSID sid = user_sid();
    if (!sid || !InitializeAcl(acl, cap, ACL_REVISION) ||
        !AddAccessAllowedAceEx(acl, ACL_REVISION, folder ? (OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE) : 0,
                               FILE_ALL_ACCESS, sid))
        return NULL;
    return acl;
}

#define ACL_BYTES (sizeof(ACL) + sizeof(ACCESS_ALLOWED_ACE) + SECURITY_MAX_SID_SIZE)

typedef struct private_sa {
    SECURITY_ATTRIBUTES sa;
    SECURITY_DESCRIPTOR sd;
    union {
        ACL acl;
        unsigned char bytes[ACL_BYTES];
    } acl;
} private_sa;

/* Security attributes that make a new file or folder private. */
static SECURITY_ATTRIBUTES *private_attributes(private_sa *p, int folder)
{
    PACL acl = private_acl(&p->acl, sizeof p->acl, folder);
    if (!acl || !InitializeSecurityDescriptor(&p->sd, SECURITY_DESCRIPTOR_REVISION) ||
        !SetSecurityDescriptorDacl(&p->sd, TRUE, acl, FALSE) ||
        !SetSecurityDescriptorControl(&p->sd, SE_DACL_PROTECTED, SE_DACL_PROTECTED)) {
        errno = EACCES;
        return NULL;
    }
    p->sa.nLength = sizeof p->sa;
    p->sa.lpSecurityDescriptor = &p->sd;
    p->sa.bInheritHandle = FALSE;
    return &p->sa;
}

/* ------------------------------------------------------------ files */

int rl_os_mkdir_private(const char *path)
{
    wchar_t w[WPATH_MAX];
    private_sa p;
    SECURITY_ATTRIBUTES *sa;

    if (wide(path, w, WPATH_MAX) != 0 || !(sa = private_attributes(&p, 1)))
        return -1;
    if (CreateDirectoryW(w, sa))
        return 0;
    DWORD e = GetLastError();
    if (e != ERROR_ALREADY_EXISTS)
        return fail_win(e);
    DWORD attr = GetFileAttributesW(w);
    if (attr == INVALID_FILE_ATTRIBUTES)
        return fail_win(GetLastError());
    if (!(attr & FILE_ATTRIBUTE_DIRECTORY) || (attr & FILE_ATTRIBUTE_REPARSE_POINT)) {
        errno = ENOTDIR;
        return -1;
    }
    /* An existing folder: make it private again (as chmod 0700 does). */
    e = SetNamedSecurityInfoW(w, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
                              NULL, NULL, &p.acl.acl, NULL);
    return e == ERROR_SUCCESS ? 0 : fail_win(e);
}

/* Every handle of this layer shares read, write and delete: a file may be
 * renamed, replaced or removed while another handle has it open, as on
 * POSIX. */
#define SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)

int rl_os_create_private(const char *path)
{
    wchar_t w[WPATH_MAX];
    private_sa p;
    SECURITY_ATTRIBUTES *sa;

    if (wide(path, w, WPATH_MAX) != 0 || !(sa = private_attributes(&p, 0)))
        return -1;
    /* CREATE_NEW fails on any existing name, a link included: nothing is
     * followed. */
    HANDLE h = CreateFileW(w, GENERIC_WRITE, SHARE_ALL, sa, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return fail_win(GetLastError());
    int fd = _open_osfhandle((intptr_t)h, _O_WRONLY | _O_BINARY);
    if (fd < 0) {
        CloseHandle(h);
        DeleteFileW(w);
        errno = EMFILE;
    }
    return fd;
}

int rl_os_open_read(const char *path)
{
    wchar_t w[WPATH_MAX];
    BY_HANDLE_FILE_INFORMATION info;

    if (wide(path, w, WPATH_MAX) != 0)
        return -1;
    /* FILE_FLAG_OPEN_REPARSE_POINT opens a link itself, which is refused
     * below: like O_NOFOLLOW. */
    HANDLE h = CreateFileW(w, GENERIC_READ, SHARE_ALL, NULL, OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return fail_win(GetLastError());
    if (GetFileInformationByHandle(h, &info) && (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)) {
        CloseHandle(h);
        errno = ELOOP;
        return -1;
    }
    int fd = _open_osfhandle((intptr_t)h, _O_RDONLY | _O_BINARY);
    if (fd < 0) {
        CloseHandle(h);
        errno = EMFILE;
    }
    return fd;
}

int rl_os_file_size(int fd, uint64_t *size)
{
    HANDLE h = (HANDLE)_get_osfhandle(fd);
    BY_HANDLE_FILE_INFORMATION info;
    if (h == INVALID_HANDLE_VALUE) {
        errno = EBADF;
        return -1;
    }
    if (GetFileType(h) != FILE_TYPE_DISK || !GetFileInformationByHandle(h, &info) ||
        (info.dwFileAttributes & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT))) {
        errno = EINVAL;
        return -1;
    }
    *size = ((uint64_t)info.nFileSizeHigh << 32) | info.nFileSizeLow;
    return 0;
}

int rl_os_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    for (size_t done = 0; done < len;) {
        size_t chunk = len - done > 0x40000000u ? 0x40000000u : len - done;
        int w = _write(fd, p + done, (unsigned)chunk);
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        done += (size_t)w;
    }
    return 0;
}

/* Through CreateFileW rather than _wfopen, whose handles do not share
 * delete: a file read with rl_os_fopen can still be replaced. */
FILE *rl_os_fopen(const char *path, const char *mode)
{
    wchar_t w[WPATH_MAX];
    int plus = strchr(mode, '+') != NULL;
    DWORD access, disposition;
    int flags = _O_BINARY;
    const char *crt_mode;

    switch (mode[0]) {
    case 'r':
        access = GENERIC_READ | (plus ? GENERIC_WRITE : 0);
        disposition = OPEN_EXISTING;
        flags |= plus ? _O_RDWR : _O_RDONLY;
        crt_mode = plus ? "r+b" : "rb";
        break;
    case 'w':
        access = GENERIC_WRITE | (plus ? GENERIC_READ : 0);
        disposition = CREATE_ALWAYS;
        flags |= plus ? _O_RDWR : _O_WRONLY;
        crt_mode = plus ? "w+b" : "wb";
        break;
    case 'a':
        access = FILE_APPEND_DATA | (plus ? GENERIC_READ : 0);
        disposition = OPEN_ALWAYS;
        flags |= (plus ? _O_RDWR : _O_WRONLY) | _O_APPEND;
        crt_mode = plus ? "a+b" : "ab";
        break;
    default:
        errno = EINVAL;
        return NULL;
    }
    if (wide(path, w, WPATH_MAX) != 0)
        return NULL;
    HANDLE h = CreateFileW(w, access, SHARE_ALL, NULL, disposition, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        fail_win(GetLastError());
        return NULL;
    }
    int fd = _open_osfhandle((intptr_t)h, flags);
    if (fd < 0) {
        CloseHandle(h);
        errno = EMFILE;
        return NULL;
    }
    FILE *f = _fdopen(fd, crt_mode);
    if (!f)
        _close(fd);
    return f;
}

/* The replace. Three ways, in this order (measured: src/base/README.md):
 *
 * 1. SetFileInformationByHandle(FileRenameInfoEx) with
 *    FILE_RENAME_FLAG_REPLACE_IF_EXISTS | FILE_RENAME_FLAG_POSIX_SEMANTICS
 *    (Windows 10 1709+, NTFS): atomic, and it succeeds even while the
 *    target is open by another handle that shares delete - every handle of
 *    this layer does - which keeps reading the old file, as on POSIX.
 *    Older Windows, FAT, some network shares and wine 8 refuse it
 *    (ERROR_INVALID_PARAMETER).
 * 2. MoveFileExW(MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH):
 *    atomic; works while the source is open with delete sharing (the
 *    spool's case: its write handle stays open for the fsync), but is
 *    refused (ERROR_ACCESS_DENIED) while the target is open anywhere.
 * 3. Only then, and only for a regular file: the open target is renamed
 *    aside (allowed, as it shares delete), the source takes its name, and
 *    the aside name is deleted (its last handle's close frees it). Not
 *    atomic: for the moment between the two renames no file has the name,
 *    and a crash there leaves the aside name instead (the spool moves such
 *    a file to rejected/, it never loses it).
 *
 * msvcrt's rename() is none of these: it refuses an existing target, and a
 * source opened by _open (which never shares delete). */
int rl_os_replace(const char *from, const char *to)
{
    wchar_t wfrom[WPATH_MAX], wto[WPATH_MAX], waside[WPATH_MAX + 32];
    union {
        FILE_RENAME_INFO info;
        unsigned char bytes[sizeof(FILE_RENAME_INFO) + WPATH_MAX * sizeof(wchar_t)];
    } r;
    DWORD e, attr;
    unsigned char nonce[6];

    if (wide(from, wfrom, WPATH_MAX) != 0 || wide(to, wto, WPATH_MAX) != 0)
        return -1;
    HANDLE h = CreateFileW(wfrom, DELETE | SYNCHRONIZE, SHARE_ALL, NULL, OPEN_EXISTING,
                           FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return fail_win(GetLastError());
    memset(&r, 0, sizeof r);
    r.info.Flags = FILE_RENAME_FLAG_REPLACE_IF_EXISTS | FILE_RENAME_FLAG_POSIX_SEMANTICS;
    r.info.FileNameLength = (DWORD)(wcslen(wto) * sizeof(wchar_t));
    memcpy(r.info.FileName, wto, r.info.FileNameLength + sizeof(wchar_t));
    BOOL ok = SetFileInformationByHandle(h, RENAME_INFO_EX, &r.info, sizeof r);
    CloseHandle(h);
    if (ok)
        return 0;
    if (MoveFileExW(wfrom, wto, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
        return 0;
    e = GetLastError();
    attr = GetFileAttributesW(wto);
    if ((e != ERROR_ACCESS_DENIED && e != ERROR_SHARING_VIOLATION) || attr == INVALID_FILE_ATTRIBUTES ||
        (attr & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_REPARSE_POINT)) ||
        rl_os_random(nonce, sizeof nonce) != 0)
        return fail_win(e);
    swprintf(waside, sizeof waside / sizeof waside[0], L"%ls.rl-old-%02x%02x%02x%02x%02x%02x", wto, nonce[0],
             nonce[1], nonce[2], nonce[3], nonce[4], nonce[5]);
    if (!MoveFileExW(wto, waside, MOVEFILE_WRITE_THROUGH))
        return fail_win(e);
    if (!MoveFileExW(wfrom, wto, MOVEFILE_WRITE_THROUGH)) {
        e = GetLastError();
        MoveFileExW(waside, wto, MOVEFILE_WRITE_THROUGH);
        return fail_win(e);
    }
    DeleteFileW(waside);
    return 0;
}

int rl_os_fsync(int fd)
{
    HANDLE h = (HANDLE)_get_osfhandle(fd);
    if (h == INVALID_HANDLE_VALUE) {
        errno = EBADF;
        return -1;
    }
    return FlushFileBuffers(h) ? 0 : fail_win(GetLastError());
}

int rl_os_sync_dir(const char *path)
{
    /* NTFS journals its metadata: a rename that returned is on its way to
     * the disk with the journal, and FlushFileBuffers of a folder needs a
     * write handle that only an administrator may open. Nothing to do. */
    (void)path;
    return 0;
}

int rl_os_remove(const char *path)
{
    wchar_t w[WPATH_MAX];
    if (wide(path, w, WPATH_MAX) != 0)
        return -1;
    if (DeleteFileW(w))
        return 0;
    DWORD e = GetLastError();
    return e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND ? 0 : fail_win(e);
}

int rl_os_rmdir(const char *path)
{
    wchar_t w[WPATH_MAX];
    if (wide(path, w, WPATH_MAX) != 0)
        return -1;
    return RemoveDirectoryW(w) ? 0 : fail_win(GetLastError());
}

/* path's DACL (LocalFree *sd), or an error. */
static DWORD read_dacl(const char *path, PACL *dacl, PSECURITY_DESCRIPTOR *sd)
{
    wchar_t w[WPATH_MAX];
    if (wide(path, w, WPATH_MAX) != 0)
        return ERROR_INVALID_NAME;
    return GetNamedSecurityInfoW(w, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL, NULL, dacl, NULL, sd);
}

int rl_os_readable_by_others(const char *path)
{
    PACL dacl = NULL;
    PSECURITY_DESCRIPTOR sd = NULL;
    unsigned char system_sid[SECURITY_MAX_SID_SIZE], admins_sid[SECURITY_MAX_SID_SIZE];
    DWORD n1 = sizeof system_sid, n2 = sizeof admins_sid;
    PSID me = user_sid();
    int others = 0;

    if (!me || !CreateWellKnownSid(WinLocalSystemSid, NULL, system_sid, &n1) ||
        !CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL, admins_sid, &n2) ||
        read_dacl(path, &dacl, &sd) != ERROR_SUCCESS) {
        errno = EACCES;
        return -1;
    }
    if (!dacl)
        others = 1;   /* no DACL: everyone may do everything */
    for (DWORD i = 0; dacl && i < dacl->AceCount && !others; i++) {
        ACCESS_ALLOWED_ACE *ace;
        if (!GetAce(dacl, i, (void **)&ace) || ace->Header.AceType != ACCESS_ALLOWED_ACE_TYPE ||
            (ace->Header.AceFlags & INHERIT_ONLY_ACE))
            continue;
        PSID sid = (PSID)&ace->SidStart;
        if (!(ace->Mask & (FILE_READ_DATA | GENERIC_READ | GENERIC_ALL)) || EqualSid(sid, me) ||
            EqualSid(sid, system_sid) || EqualSid(sid, admins_sid))
            continue;
        others = 1;
    }
    LocalFree(sd);
    return others;
}

/* ----------------------------------------------------- folder listing */

struct rl_os_dir {
    HANDLE find;
    int first;                        /* data holds the first entry, not yet given */
    WIN32_FIND_DATAW data;
    char name[MAX_PATH * 3 + 1];      /* UTF-8 of data.cFileName */
};

rl_os_dir *rl_os_dir_open(const char *path)
{
    wchar_t w[WPATH_MAX + 3];
    size_t n;
    rl_os_dir *d;

    if (wide(path, w, WPATH_MAX) != 0)
        return NULL;
    n = wcslen(w);
    if (n > 0 && w[n - 1] != L'\\' && w[n - 1] != L'/')
        w[n++] = L'\\';
    w[n++] = L'*';
    w[n] = 0;
    if (!(d = calloc(1, sizeof *d)))
        return NULL;
    d->find = FindFirstFileW(w, &d->data);
    if (d->find == INVALID_HANDLE_VALUE) {
        DWORD e = GetLastError();
        free(d);
        fail_win(e == ERROR_FILE_NOT_FOUND ? ERROR_PATH_NOT_FOUND : e);
        return NULL;
    }
    d->first = 1;
    return d;
}

const char *rl_os_dir_next(rl_os_dir *d)
{
    for (;;) {
        if (!d->first && !FindNextFileW(d->find, &d->data))
            return NULL;
        d->first = 0;
        const wchar_t *nm = d->data.cFileName;
        if (wcscmp(nm, L".") == 0 || wcscmp(nm, L"..") == 0)
            continue;
        if (narrow(nm, d->name, sizeof d->name) == 0)
            return d->name;
    }
}

void rl_os_dir_close(rl_os_dir *d)
{
    if (d) {
        FindClose(d->find);
        free(d);
    }
}

/* ------------------------------------------ temporary files and URLs */

int rl_os_make_temp_dir(const char *prefix, char *out, size_t cap)
{
    static const char letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    wchar_t tmp[MAX_PATH + 1];
    char base[RL_OS_PATH_MAX];
    private_sa p;
    SECURITY_ATTRIBUTES *sa;
    DWORD n = GetTempPathW(MAX_PATH + 1, tmp);    /* ends with '\' */

    if (n == 0 || n > MAX_PATH)
        return fail_win(GetLastError());
    if (narrow(tmp, base, sizeof base) != 0 || !(sa = private_attributes(&p, 1)))
        return -1;
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned char r[6];
        char suffix[7];
        wchar_t w[WPATH_MAX];
        if (rl_os_random(r, sizeof r) != 0)
            return -1;
        for (int i = 0; i < 6; i++)
            suffix[i] = letters[r[i] % (sizeof letters - 1)];
        suffix[6] = 0;
        int len = snprintf(out, cap, "%s%s%s", base, prefix, suffix);
        if (len < 0 || (size_t)len >= cap) {
            errno = ENAMETOOLONG;
            return -1;
        }
        if (wide(out, w, WPATH_MAX) != 0)
            return -1;
        if (CreateDirectoryW(w, sa))
            return 0;
        if (GetLastError() != ERROR_ALREADY_EXISTS)
            return fail_win(GetLastError());
    }
    errno = EEXIST;
    return -1;
}

int rl_os_file_url(const char *path, char *url, size_t cap)
{
    int drive = ((path[0] >= 'A' && path[0] <= 'Z') || (path[0] >= 'a' && path[0] <= 'z')) && path[1] == ':' &&
                (path[2] == '\\' || path[2] == '/');
    int unc = (path[0] == '\\' || path[0] == '/') && (path[1] == '\\' || path[1] == '/');
    if (drive)
        return rl__url_encode_path("file:///", path, 1, url, cap);
    if (unc)
        return rl__url_encode_path("file://", path + 2, 1, url, cap);
    errno = EINVAL;
    return -1;
}

int rl_os_path_from_url(const char *url, char *path, size_t cap)
{
    const char *p;
    if (strncmp(url, "file://", 7) != 0) {
        errno = EINVAL;
        return -1;
    }
    p = url + 7;
    if (strncmp(p, "localhost/", 10) == 0)
        p += 9;
    if (*p == '/') {                              /* file:///C:/... */
        p++;
        if (!(((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')) && p[1] == ':')) {
            errno = EINVAL;
            return -1;
        }
        return rl__url_decode(p, path, cap, '\\');
    }
    if (cap < 3) {                                /* file://server/share/... */
        errno = ENAMETOOLONG;
        return -1;
    }
    path[0] = path[1] = '\\';
    return rl__url_decode(p, path + 2, cap - 2, '\\');
}

int rl_os_library_dir(char *out, size_t cap)
{
    HMODULE module;
    wchar_t w[WPATH_MAX];
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                            (LPCWSTR)(void *)rl_os_library_dir, &module))
        return fail_win(GetLastError());
    DWORD n = GetModuleFileNameW(module, w, WPATH_MAX);
    if (n == 0 || n >= WPATH_MAX)
        return fail_win(n ? ERROR_FILENAME_EXCED_RANGE : GetLastError());
    wchar_t *slash = wcsrchr(w, L'\\');
    if (slash)
        slash[1] = 0;
    else
        w[0] = 0;
    return narrow(w, out, cap);
}

/* ------------------------------------------------------------- time */

static int64_t perf_ticks(int64_t per_second)
{
    static LARGE_INTEGER freq;    /* constant for the system's life */
    LARGE_INTEGER now;
    if (freq.QuadPart == 0)
        QueryPerformanceFrequency(&freq);
    QueryPerformanceCounter(&now);
    /* Whole seconds and the rest apart: no overflow for centuries of uptime. */
    return now.QuadPart / freq.QuadPart * per_second + now.QuadPart % freq.QuadPart * per_second / freq.QuadPart;
}

int64_t rl_os_monotonic_ms(void)
{
    return perf_ticks(1000);
}

int64_t rl_os_monotonic_us(void)
{
    return perf_ticks(1000000);
}

int rl_os_cond_init(pthread_cond_t *cond)
{
    /* winpthreads' pthread_condattr_setclock refuses CLOCK_MONOTONIC
     * (EINVAL), and its absolute waits are on the wall clock: the waits
     * below are relative instead. */
    return pthread_cond_init(cond, NULL);
}

int rl_os_cond_wait_until(pthread_cond_t *cond, pthread_mutex_t *mutex, int64_t deadline_ms)
{
    int64_t left = deadline_ms - rl_os_monotonic_ms();
    if (left <= 0)
        return ETIMEDOUT;
    struct timespec rel = { (time_t)(left / 1000), (long)(left % 1000) * 1000000L };
    int rc = pthread_cond_timedwait_relative_np(cond, mutex, &rel);
    /* A relative wait can end a little early (the system's tick): that is a
     * wake-up, and the caller waits again. */
    if (rc == ETIMEDOUT && rl_os_monotonic_ms() >= deadline_ms)
        return ETIMEDOUT;
    return 0;
}

int rl_os_localtime(time_t t, struct tm *tm, long *utc_offset_s)
{
    if (localtime_s(tm, &t) != 0)
        return -1;
    /* The local wall-clock time read as UTC, less the true UTC time. */
    struct tm copy = *tm;
    *utc_offset_s = (long)(_mkgmtime(&copy) - t);
    return 0;
}

time_t rl_os_timegm(struct tm *tm)
{
    return _mkgmtime(tm);
}

/* ---------------------------------------------------------- threads */

/* The id of the process's initial thread: of the process's threads, the
 * one created first (Toolhelp lists them; their creation times decide). */
static DWORD main_thread_id;

static BOOL CALLBACK find_main_thread(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
    THREADENTRY32 te = { .dwSize = sizeof te };
    ULONGLONG best = ~0ull;
    DWORD pid = GetCurrentProcessId();

    if (snap == INVALID_HANDLE_VALUE)
        return TRUE;
    for (BOOL more = Thread32First(snap, &te); more; more = Thread32Next(snap, &te)) {
        if (te.th32OwnerProcessID != pid)
            continue;
        HANDLE t = OpenThread(THREAD_QUERY_LIMITED_INFORMATION, FALSE, te.th32ThreadID);
        FILETIME created, exited, kernel, user;
        ULONGLONG at = ~0ull - 1;   /* unknown: after every known time, before "none" */
        if (t) {
            if (GetThreadTimes(t, &created, &exited, &kernel, &user))
                at = ((ULONGLONG)created.dwHighDateTime << 32) | created.dwLowDateTime;
            CloseHandle(t);
        }
        if (at < best) {            /* equal times: the first listed */
            best = at;
            main_thread_id = te.th32ThreadID;
        }
    }
    CloseHandle(snap);
    return TRUE;
}

int rl_os_is_main_thread(void)
{
    static INIT_ONCE once = INIT_ONCE_STATIC_INIT;
    InitOnceExecuteOnce(&once, find_main_thread, NULL, NULL);
    return main_thread_id != 0 && GetCurrentThreadId() == main_thread_id;
}

long rl_os_pid(void)
{
    return (long)GetCurrentProcessId();
}

/* ---------------------------------------------------------- network */

/* Four decimal parts 0-255 without leading zeros, as glibc's inet_pton:
 * Windows' RtlIpv4StringToAddress reads "0127.0.0.1" one way and the
 * resolver another, and a loopback test must not be told apart from the
 * address connected to. */
static int ipv4_strict(const char *s, unsigned char out[4])
{
    for (int part = 0; part < 4; part++) {
        int v = 0, digits = 0;
        if (part > 0 && *s++ != '.')
            return 0;
        while (*s >= '0' && *s <= '9') {
            if (digits > 0 && v == 0)
                return 0;                 /* a leading zero */
            v = v * 10 + (*s++ - '0');
            if (++digits > 3 || v > 255)
                return 0;
        }
        if (digits == 0)
            return 0;
        out[part] = (unsigned char)v;
    }
    return *s == '\0';
}

int rl_os_inet_pton(int v6, const char *text, void *out)
{
    if (!v6)
        return ipv4_strict(text, out);
    struct in6_addr a;
    if (inet_pton(AF_INET6, text, &a) != 1)
        return 0;
    memcpy(out, &a, 16);
    return 1;
}

/* --------------------------------------------------------- secrets */

int rl_os_random(void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len > 0) {
        ULONG chunk = len > 0x10000000u ? 0x10000000u : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, p, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG))) {
            errno = EIO;
            return -1;
        }
        p += chunk;
        len -= chunk;
    }
    return 0;
}

void rl_os_wipe(void *p, size_t len)
{
    SecureZeroMemory(p, len);
}

/* ------------------------------------------------------------- log */

static SRWLOCK log_lock = SRWLOCK_INIT;
static wchar_t log_path[WPATH_MAX];       /* under log_lock; empty: no file */

#define LOG_FILE_MAX (1u << 20)

void rl_os_log_to_file(const char *path)
{
    wchar_t w[WPATH_MAX];
    if (wide(path, w, WPATH_MAX) != 0)
        return;
    AcquireSRWLockExclusive(&log_lock);
    memcpy(log_path, w, sizeof w);
    WIN32_FILE_ATTRIBUTE_DATA a;
    if (GetFileAttributesExW(w, GetFileExInfoStandard, &a) && (a.nFileSizeHigh || a.nFileSizeLow > LOG_FILE_MAX))
        DeleteFileW(w);           /* starts over; support asks for recent lines */
    ReleaseSRWLockExclusive(&log_lock);
}

void rl_os_log_write(const char *line, size_t len)
{
    HANDLE err = GetStdHandle(STD_ERROR_HANDLE);
    DWORD written;
    wchar_t w[1024 + 2];   /* RL_LOG_LINE_MAX and a NUL */

    /* A console, a file or a pipe: wherever whoever started us looks. */
    if (err && err != INVALID_HANDLE_VALUE && GetFileType(err) != FILE_TYPE_UNKNOWN) {
        WriteFile(err, line, (DWORD)len, &written, NULL);
        return;
    }
    /* soffice.exe, a GUI program, has none: the debugger (DebugView) and
     * the profile's log file. */
    int n = MultiByteToWideChar(CP_UTF8, 0, line, (int)len, w, (int)(sizeof w / sizeof w[0]) - 1);
    w[n > 0 ? n : 0] = 0;
    OutputDebugStringW(w);
    AcquireSRWLockShared(&log_lock);
    if (log_path[0]) {
        private_sa p;
        SECURITY_ATTRIBUTES *sa = private_attributes(&p, 0);
        /* FILE_APPEND_DATA alone: every write goes to the end, whole. */
        HANDLE f = CreateFileW(log_path, FILE_APPEND_DATA, SHARE_ALL, sa, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
        if (f != INVALID_HANDLE_VALUE) {
            WriteFile(f, line, (DWORD)len, &written, NULL);
            CloseHandle(f);
        }
    }
    ReleaseSRWLockShared(&log_lock);
}

/* ------------------------------------------------ a command's stop */

/* Windows calls the console control handler on a thread of its own; it
 * notes which event came and sets the event the waiter waits on. */
struct rl_os_stop {
    HANDLE event;                      /* auto-reset */
};

static HANDLE stop_event;              /* the one open rl_os_stop's */
static volatile LONG stop_ctrl = -1;   /* the control event that came, -1: none */

static BOOL WINAPI on_console_ctrl(DWORD type)
{
    InterlockedCompareExchange(&stop_ctrl, (LONG)type, -1);
    if (stop_event)
        SetEvent(stop_event);
    /* For a closing console, Windows ends the process once this returns:
     * wait here for main to close the connection and exit. */
    if (type == CTRL_CLOSE_EVENT || type == CTRL_LOGOFF_EVENT || type == CTRL_SHUTDOWN_EVENT)
        Sleep(INFINITE);
    return TRUE;
}

rl_os_stop *rl_os_stop_open(void)
{
    rl_os_stop *s = malloc(sizeof *s);
    if (!s)
        return NULL;
    if (!(s->event = CreateEventW(NULL, FALSE, FALSE, NULL))) {
        free(s);
        errno = ENOMEM;
        return NULL;
    }
    stop_event = s->event;
    if (!SetConsoleCtrlHandler(on_console_ctrl, TRUE)) {
        rl_os_stop_close(s);
        errno = EINVAL;
        return NULL;
    }
    return s;
}

void rl_os_stop_wake(rl_os_stop *s)
{
    SetEvent(s->event);
}

int rl_os_stop_wait(rl_os_stop *s, const char **why)
{
    if (WaitForSingleObject(s->event, INFINITE) != WAIT_OBJECT_0)
        return -1;
    LONG type = InterlockedCompareExchange(&stop_ctrl, -1, -1);
    if (type < 0)
        return 0;
    *why = type == CTRL_C_EVENT || type == CTRL_BREAK_EVENT ? "interrupted" : "terminated";
    return 1;
}

void rl_os_stop_close(rl_os_stop *s)
{
    if (s) {
        SetConsoleCtrlHandler(on_console_ctrl, FALSE);
        stop_event = NULL;
        CloseHandle(s->event);
        free(s);
    }
}

void rl_os_stdout_binary(void)
{
    _setmode(_fileno(stdout), _O_BINARY);
}

void rl_os_unsetenv_wipe(const char *name)
{
    char *v = getenv(name);
    wchar_t w[256];
    if (v)
        SecureZeroMemory(v, strlen(v));
    /* msvcrt keeps its own copy of the environment beside the process's. */
    char assign[256];
    snprintf(assign, sizeof assign, "%s=", name);
    _putenv(assign);
    if (wide(name, w, sizeof w / sizeof w[0]) == 0)
        SetEnvironmentVariableW(w, NULL);
}

#endif
