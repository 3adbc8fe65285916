/* semver: version validity and order, as npm reads package.json versions. */
#include <criterion/criterion.h>

#include "semver.h"

Test(semver, accepts_valid_versions)
{
	cr_assert_eq(semver_valid("1.2.3"), 0);
	cr_assert_eq(semver_valid("v0.0.1"), 0);
	cr_assert_eq(semver_valid("1.0.0-rc.1+build.5"), 0);
	cr_assert_eq(semver_valid("10.20.30-alpha-1"), 0);
}

Test(semver, rejects_invalid_versions)
{
	cr_assert_eq(semver_valid("1.2"), -1);
	cr_assert_eq(semver_valid("01.2.3"), -1);
	cr_assert_eq(semver_valid("1.2.3-"), -1);
	cr_assert_eq(semver_valid("1.2.3-01"), -1);
	cr_assert_eq(semver_valid("1.2.x"), -1);
	cr_assert_eq(semver_valid(""), -1);
	cr_assert_eq(semver_valid("1.2.3+"), -1);
}

Test(semver, orders_numbers_numerically)
{
	cr_assert_lt(semver_compare("1.2.3", "1.2.10"), 0);
	cr_assert_gt(semver_compare("2.0.0", "1.99.99"), 0);
	cr_assert_eq(semver_compare("1.2.3", "v1.2.3"), 0);
	cr_assert_lt(semver_compare("1.2.3", "123456789012345678901234567890.0.0"), 0);
}

Test(semver, prerelease_precedence_follows_the_specification)
{
	const char *ordered[] = {"1.0.0-alpha",	 "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
				 "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",	      "1.0.0"};
	for (size_t i = 0; i + 1 < sizeof(ordered) / sizeof(ordered[0]); i++) {
		cr_assert_lt(semver_compare(ordered[i], ordered[i + 1]), 0, "%s < %s", ordered[i],
			     ordered[i + 1]);
		cr_assert_gt(semver_compare(ordered[i + 1], ordered[i]), 0);
	}
}

Test(semver, build_metadata_is_ignored)
{
	cr_assert_eq(semver_compare("1.0.0+a", "1.0.0+b"), 0);
}
