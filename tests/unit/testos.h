/* testos.h - what the platform tests need to do or see behind the platform
 * layer's back (src/base/platform.h), so that they do not check it with its
 * own code: loosen a file's protection, read the protection back, make an
 * interrupt, remove a folder tree. The one place in tests/unit/ with a
 * platform #ifdef. */
#ifndef RL_TESTOS_H
#define RL_TESTOS_H

#include "platform.h"

#include <stdio.h>
#include <string.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <winsock2.h>
#include <windows.h>
#include <aclapi.h>
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#endif

/* Makes path readable by every user (chmod 0755/0644; a DACL that is not
 * protected, with an ACE letting Everyone read). 0 or -1. */
static inline int os_loosen(const char *path, int folder)
{
#ifdef _WIN32
    wchar_t w[RL_OS_PATH_MAX];
    union { ACL acl; unsigned char b[512]; } buf;
    unsigned char everyone[SECURITY_MAX_SID_SIZE];
    DWORD n = sizeof everyone;
    HANDLE token;
    union { TOKEN_USER u; unsigned char b[256]; } me;
    DWORD len;
    if (!MultiByteToWideChar(CP_UTF8, 0, path, -1, w, RL_OS_PATH_MAX) ||
        !CreateWellKnownSid(WinWorldSid, NULL, everyone, &n) ||
        !OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token))
        return -1;
    BOOL got = GetTokenInformation(token, TokenUser, &me, sizeof me, &len);
    CloseHandle(token);
    if (!got || !InitializeAcl(&buf.acl, sizeof buf, ACL_REVISION) ||
        !AddAccessAllowedAce(&buf.acl, ACL_REVISION, FILE_ALL_ACCESS, me.u.User.Sid) ||
        !AddAccessAllowedAce(&buf.acl, ACL_REVISION, FILE_GENERIC_READ, everyone))
        return -1;
    return SetNamedSecurityInfoW(w, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION | UNPROTECTED_DACL_SECURITY_INFORMATION,
                                 NULL, NULL, &buf.acl, NULL) == ERROR_SUCCESS ? 0 : -1;
#else
    return chmod(path, folder ? 0755 : 0644);
#endif
}

#ifdef _WIN32
/* 1 under wine, whose ntdll says its version. */
static inline int os_is_wine(void)
{
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    return ntdll && GetProcAddress(ntdll, "wine_get_version") != NULL;
}

/* Wine 8 (without wine-staging's stored ACLs) keeps no DACL: it turns the
 * one set into Unix mode bits and, read back, shows a DACL made from them:
 * SYSTEM and the owner full control, Everyone what "others" may do, never
 * protected. All that can be checked there is that nobody but the owner
 * and SYSTEM is let in. */
static inline int wine_owner_only(PACL dacl, PSID owner, PSID me)
{
    unsigned char system[SECURITY_MAX_SID_SIZE];
    DWORD n = sizeof system;
    int owner_ace = 0;
    static int told;
    if (!told++)
        printf("# wine keeps no DACL (it maps one to Unix mode bits): checked that only the owner "
               "and SYSTEM are let in, not that the DACL is protected with one ACE\n");
    if (!dacl || !CreateWellKnownSid(WinLocalSystemSid, NULL, system, &n) || !EqualSid(owner, me))
        return 0;
    for (DWORD i = 0; i < dacl->AceCount; i++) {
        ACCESS_ALLOWED_ACE *ace;
        if (!GetAce(dacl, i, (void **)&ace) || ace->Header.AceType != ACCESS_ALLOWED_ACE_TYPE)
            continue;
        PSID sid = (PSID)&ace->SidStart;
        if (EqualSid(sid, owner))
            owner_ace = 1;
        else if (!EqualSid(sid, system))
            return 0;
    }
    return owner_ace;
}
#endif

/* 1 if only path's owner may use it, as read back from the system: POSIX:
 * ours, mode 0700 (folder) or 0600 (file); Windows: a protected DACL with
 * exactly one ACE, allowing, for the file's owner SID, which is ours
 * (under wine: wine_owner_only). */
static inline int os_owner_only(const char *path, int folder)
{
#ifdef _WIN32
    wchar_t w[RL_OS_PATH_MAX];
    PSID owner = NULL;
    PACL dacl = NULL;
    PSECURITY_DESCRIPTOR sd = NULL;
    SECURITY_DESCRIPTOR_CONTROL control = 0;
    DWORD revision, len;
    ACCESS_ALLOWED_ACE *ace = NULL;
    HANDLE token;
    union { TOKEN_USER u; unsigned char b[256]; } me;
    if (!MultiByteToWideChar(CP_UTF8, 0, path, -1, w, RL_OS_PATH_MAX) ||
        GetNamedSecurityInfoW(w, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner,
                              NULL, &dacl, NULL, &sd) != ERROR_SUCCESS)
        return -1;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) {
        LocalFree(sd);
        return -1;
    }
    BOOL got = GetTokenInformation(token, TokenUser, &me, sizeof me, &len);
    CloseHandle(token);
    if (got && owner && os_is_wine()) {
        int ok = wine_owner_only(dacl, owner, me.u.User.Sid);
        LocalFree(sd);
        return ok;
    }
    int ok = got && dacl && GetSecurityDescriptorControl(sd, &control, &revision) &&
             (control & SE_DACL_PROTECTED) && dacl->AceCount == 1 && GetAce(dacl, 0, (void **)&ace) &&
             ace->Header.AceType == ACCESS_ALLOWED_ACE_TYPE && owner && EqualSid((PSID)&ace->SidStart, owner) &&
             EqualSid(owner, me.u.User.Sid);
    if (!ok)
        printf("# %s: owner %s ours, DACL %s, protected %d, %d ACE(s)\n", path,
               owner && got && EqualSid(owner, me.u.User.Sid) ? "is" : "is not", dacl ? "present" : "absent",
               !!(control & SE_DACL_PROTECTED), dacl ? (int)dacl->AceCount : -1);
    LocalFree(sd);
    return ok;
#else
    struct stat st;
    if (lstat(path, &st) != 0)
        return -1;
    return st.st_uid == geteuid() && (st.st_mode & 07777) == (folder ? 0700 : 0600);
#endif
}

/* Delivers an interrupt to this process as the user would: SIGINT, or
 * Ctrl-C to the console's processes. */
static inline int os_interrupt(void)
{
#ifdef _WIN32
    return GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0) ? 0 : -1;
#else
    return kill(getpid(), SIGINT);
#endif
}

/* Sets the umask the tests expect of a user (POSIX; nothing on Windows). */
static inline void os_umask_022(void)
{
#ifndef _WIN32
    umask(022);
#endif
}

/* A loopback port that refuses connections: bound, then closed. -1 if none. */
static inline int os_refused_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
#ifdef _WIN32
    WSADATA wsa;
    int len = sizeof a;
    SOCKET fd;
    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0 || (fd = socket(AF_INET, SOCK_STREAM, 0)) == INVALID_SOCKET)
        return -1;
    int bad = bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &len);
    closesocket(fd);
#else
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    int bad = bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
#endif
    return bad ? -1 : ntohs(a.sin_port);
}

/* The local time zone becomes UTC for the rest of the run. */
static inline void os_tz_utc(void)
{
#ifdef _WIN32
    _putenv("TZ=UTC");
    _tzset();
#else
    setenv("TZ", "UTC", 1);
    tzset();
#endif
}

/* Removes path and everything below it, through the platform layer. */
static inline void os_rm_tree(const char *path)
{
    rl_os_dir *d = rl_os_dir_open(path);
    const char *nm;
    if (!d) {
        rl_os_remove(path);
        return;
    }
    while ((nm = rl_os_dir_next(d)) != NULL) {
        char p[RL_OS_PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", path, nm);
        if (rl_os_remove(p) != 0)      /* a folder */
            os_rm_tree(p);
    }
    rl_os_dir_close(d);
    rl_os_rmdir(path);
}

#endif
