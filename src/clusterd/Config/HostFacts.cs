namespace Clusterd.Config;

/// <summary>
/// What a config is checked against beyond its own text, at start, reload and <c>--check-config</c>: whether clusterd
/// can switch users at all, and whether the users and groups it names exist (which may ask NSS). <see cref="ConfigLoader.Parse(string, string, AvailableCpus, HostFacts?)"/>
/// stays pure without them.
/// </summary>
/// <param name="CheckUser">Null when the user exists (by name, or a numeric uid with a passwd entry); else what is wrong.</param>
/// <param name="CheckGroup">Null when the group exists (a numeric gid always does); else what is wrong.</param>
internal sealed record HostFacts(bool CanSwitchUsers, uint Uid, Func<string, string?> CheckUser, Func<string, string?> CheckGroup);
