"""Drives the admin REST API with the third-party client hsapi-client 0.9.9, for hsapi-client.sh.

Usage (environment: HSAPI_SERVER, HSAPI_API_TOKEN, HSAPI_CA_FILE):
  hsapi-client.py prepare USER      creates USER and a reusable pre-auth key; prints the key
  hsapi-client.py nodes USER HOST   checks that the node list shows HOST, owned by USER
  hsapi-client.py bad-token         checks that a wrong API key gets HTTP 401

Each check that fails raises, so the process exits non-zero with a traceback naming the check.

hsapi-client 0.9.9 models PreAuthKey.user as a string and Node.expiry as a required time, while
Headscale 0.29 sends a User object and null. Its typed parsers therefore reject the pre-auth key
and node answers of Headscale 0.29 itself, so those steps read the JSON of the client's own
HSAPICall.call, which still sends the request the client would send.
"""

import datetime
import os
import sys

from hsapi_client import Node, PreAuthKey, User
from hsapi_client.config import APISettings, HTTPException
from hsapi_client.preauthkeys import v1CreatePreAuthKeyRequest
from hsapi_client.users import v1CreateUserRequest


def settings(token=None):
    return APISettings(
        server=os.environ["HSAPI_SERVER"],
        api_token=token or os.environ["HSAPI_API_TOKEN"],
        ssl_verify=os.environ["HSAPI_CA_FILE"],
    )


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def prepare(user_name):
    created = User(settings()).create(v1CreateUserRequest(name=user_name)).user
    check(created is not None, "create user returned no user")
    check(created.name == user_name, f"created user is named {created.name!r}, expected {user_name!r}")
    check(created.id > 0, f"created user has id {created.id}, expected a positive id")

    listed = User(settings()).list().users or []
    names = {user.name: user.id for user in listed}
    check(names.get(user_name) == created.id, f"user list {names} lacks {user_name!r} with id {created.id}")

    nodes = Node(settings()).list().nodes
    check(nodes == [], f"node list before any registration is {nodes!r}, expected []")

    expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    request = v1CreatePreAuthKeyRequest(
        user=str(created.id),
        reusable=True,
        ephemeral=False,
        expiration=expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    answer = PreAuthKey(settings()).call("post", data=request).json()["preAuthKey"]
    check(answer["key"].startswith("hskey-auth-"), f"pre-auth key {answer['key'][:11]!r}... lacks hskey-auth-")
    check(answer["reusable"] is True, f"pre-auth key reusable is {answer['reusable']!r}, expected true")
    check(answer["ephemeral"] is False, f"pre-auth key ephemeral is {answer['ephemeral']!r}, expected false")
    check(answer["used"] is False, f"new pre-auth key used is {answer['used']!r}, expected false")
    check(answer["user"]["name"] == user_name, f"pre-auth key owner is {answer['user']!r}, expected {user_name!r}")
    print(answer["key"])


def nodes(user_name, host):
    listed = Node(settings()).call("get").json()["nodes"]
    matching = [node for node in listed if node["name"] == host]
    check(len(matching) == 1, f"node list has {len(matching)} nodes named {host!r}: {[n['name'] for n in listed]}")
    node = matching[0]
    check(node["user"]["name"] == user_name, f"node {host} is owned by {node['user']!r}, expected {user_name!r}")
    check(node["registerMethod"] == "REGISTER_METHOD_AUTH_KEY", f"node register method {node['registerMethod']!r}")
    check(len(node["ipAddresses"]) >= 1, f"node {host} has no IP addresses")
    check(node["preAuthKey"]["user"]["name"] == user_name, f"node pre-auth key owner {node['preAuthKey']!r}")
    print(f"{node['id']}\t{node['name']}\t{','.join(node['ipAddresses'])}")


def bad_token():
    try:
        User(settings(token="hskey-api-AAAAAAAAAAAA-" + "A" * 64)).list()
    except HTTPException as error:
        check(error.status_code == 401, f"a wrong API key got HTTP {error.status_code}, expected 401")
        return
    raise AssertionError("a wrong API key listed the users, expected HTTP 401")


def main(arguments):
    if arguments[:1] == ["prepare"] and len(arguments) == 2:
        prepare(arguments[1])
    elif arguments[:1] == ["nodes"] and len(arguments) == 3:
        nodes(arguments[1], arguments[2])
    elif arguments == ["bad-token"]:
        bad_token()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
