"""Organizations as strict as AWS where the fan-out relies on it: who may list an organization's accounts.

moto's ListAccounts answers every caller with its own account's list: [] outside an organization and in a member
account. AWS: "You can only call this operation from the management account or a member account that is a
delegated administrator" (botocore's Organizations model, ListAccounts), refusing others with
AccessDeniedException, and an account in no organization with AWSOrganizationsNotInUseException (the errors that
model lists for ListAccounts). This patch answers the same way; a delegated administrator gets the organization's
accounts, as the management account does.
"""

from __future__ import annotations

import json
from typing import Any

_installed = False


def install() -> None:
    """Patch moto's Organizations responses in this process. Idempotent."""
    global _installed
    if _installed:
        return
    from moto.core.exceptions import JsonRESTError
    from moto.organizations.exceptions import AWSOrganizationsNotInUseException
    from moto.organizations.models import organizations_backends
    from moto.organizations.responses import OrganizationsResponse

    original = OrganizationsResponse.list_accounts

    def list_accounts(self: OrganizationsResponse) -> Any:
        account = self.current_account
        own = organizations_backends[account][self.partition]
        if own.org is not None:
            return original(self)
        management = organizations_backends.master_accounts.get(account)
        if management is None:
            raise AWSOrganizationsNotInUseException
        backend = organizations_backends[management[0]][management[1]]
        if not any(admin.account.id == account for admin in backend.admins):
            raise JsonRESTError("AccessDeniedException", "You don't have permissions to access this resource.")
        accounts, token = backend.list_accounts(max_results=self._get_int_param("MaxResults"),
                                                next_token=self._get_param("NextToken"))
        return json.dumps({"Accounts": accounts, "NextToken": token})

    OrganizationsResponse.list_accounts = list_accounts  # type: ignore[method-assign]
    _installed = True
