"""``--security-opt``: dockerd's ``parseSecurityOpt``, with stepbox's refusals said by name.

The docker CLI reads ``seccomp=FILE`` itself and sends the file's *content*
(``seccomp={"defaultAction": ...}``), so the daemon only ever sees JSON,
``unconfined``, or nothing.  AppArmor and SELinux are not applied by stepbox
at all, so the options that ask for *less* of them (``apparmor=unconfined``,
``label=disable``) are true as they stand; those that ask for a profile or a
label are refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from .seccomp_profile import Profile, ProfileError, parse_profile


class InvalidSecurityOpt(ValueError):
    pass


# Go's strconv.ParseBool
_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


@dataclass(frozen=True)
class SecurityOptions:
    no_new_privileges: bool = False
    seccomp: str = ""  # "" = Docker's default profile, "unconfined", or a profile's JSON
    profile: Profile | None = None  # parsed from ``seccomp`` when it is JSON

    @property
    def seccomp_unconfined(self) -> bool:
        return self.seccomp == "unconfined" or (self.profile is not None and self.profile.disabled)


def parse_security_opts(opts: list[str]) -> SecurityOptions:
    no_new_privileges = False
    seccomp = ""
    profile = None
    for opt in opts:
        if not isinstance(opt, str):
            raise InvalidSecurityOpt("invalid value for HostConfig.SecurityOpt: expected a list of strings")
        if opt == "no-new-privileges":
            no_new_privileges = True
            continue
        if opt == "disable":
            continue  # label=disable: stepbox applies no SELinux label
        if "=" in opt:
            key, value = opt.split("=", 1)
        elif ":" in opt:
            key, value = opt.split(":", 1)  # the old spelling, still accepted by dockerd 20.10
        else:
            raise InvalidSecurityOpt(f'invalid --security-opt 1: "{opt}"')
        if key == "no-new-privileges":
            if value in _TRUE:
                no_new_privileges = True
            elif value in _FALSE:
                no_new_privileges = False
            else:
                raise InvalidSecurityOpt(f'invalid --security-opt 2: "{opt}"')
        elif key == "seccomp":
            seccomp, profile = value, None
            if value not in ("unconfined", "", "builtin"):
                try:
                    profile = parse_profile(value)
                except ProfileError as e:
                    raise InvalidSecurityOpt(str(e)) from None
            elif value == "builtin":
                seccomp = ""
        elif key == "apparmor":
            if value != "unconfined":
                raise InvalidSecurityOpt(
                    f"stepbox does not support AppArmor profiles (--security-opt apparmor={value}); "
                    "it confines containers without AppArmor, as apparmor=unconfined"
                )
        elif key == "label":
            if value != "disable":
                raise InvalidSecurityOpt(
                    f"stepbox does not support SELinux labels (--security-opt label={value}); "
                    "it labels nothing, as label=disable"
                )
        else:
            raise InvalidSecurityOpt(f'invalid --security-opt 2: "{opt}"')
    return SecurityOptions(no_new_privileges, seccomp, profile)
