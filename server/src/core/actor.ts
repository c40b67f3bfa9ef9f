/**
 * On whose behalf a service call runs: an end user (membership rules apply) or a trusted
 * backend holding an API key (acts for any user, checked by scope at the edge).
 */
export type Actor = { kind: "user"; userId: string } | { kind: "backend" };
