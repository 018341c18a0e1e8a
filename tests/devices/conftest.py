import pytest

from devices import services


@pytest.fixture
def alice_device(alice):
    """Alice's phone: a device password, and the address her calendar app is given."""
    _password, secret = services.password_create(user=alice, name="Alice's phone")
    return secret
