"""What a member of a workspace may do with its transcripts: the one table of roles and
the actions each allows. A job's owner and the install's admins may do everything."""

from __future__ import annotations

from enum import StrEnum


class JobAction(StrEnum):
    READ = "read"  # see it, play its audio, export it, follow its progress
    EDIT = "edit"  # correct the text, rename speakers, review, tag
    MANAGE = "manage"  # delete, cancel, move between workspaces, share by link


class WorkspaceRole(StrEnum):
    VIEWER = "viewer"
    EDITOR = "editor"
    MANAGER = "manager"  # also adds and removes members


ALLOWED: dict[WorkspaceRole, frozenset[JobAction]] = {
    WorkspaceRole.VIEWER: frozenset({JobAction.READ}),
    WorkspaceRole.EDITOR: frozenset({JobAction.READ, JobAction.EDIT}),
    WorkspaceRole.MANAGER: frozenset(JobAction),
}

ROLES = tuple(r.value for r in WorkspaceRole)
# Who may put a transcription into a workspace (upload there, move there).
FILES_INTO = frozenset({WorkspaceRole.EDITOR, WorkspaceRole.MANAGER})


def allows(role: str | None, action: JobAction) -> bool:
    return role in ROLES and action in ALLOWED[WorkspaceRole(role)]
