from crm.models import Profile
from tests import factories


def test_users_get_the_permissions_of_their_profile(alice, manager):
    assert alice.has_perm("crm.add_action")
    assert not alice.has_perm("crm.view_all_actions")
    assert manager.has_perm("crm.view_all_actions")
    assert manager.has_perm("crm.delete_company")


def test_a_profile_is_a_group_managed_with_django_permissions(db):
    technician = factories.profile("Technician")
    assert Profile.objects.get(name="Technician").group_ptr.name == "Technician"
    user = factories.user("tom", profile=technician)
    assert user.has_perm("crm.view_contact")
    assert not user.has_perm("crm.change_contact")
    technician.permissions.add(*technician.permissions.model.objects.filter(codename="change_contact"))
    user = type(user).objects.get(pk=user.pk)  # permissions are cached per user object
    assert user.has_perm("crm.change_contact")


def test_a_user_without_a_profile_may_do_nothing(db):
    assert not factories.user("nobody").has_perm("crm.view_action")
