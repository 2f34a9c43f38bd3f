using System.CommandLine;
using Clusterd.Config;
using Clusterd.Control;
using Clusterd.Control.Commands;
using Clusterd.Hosting;
using Clusterd.Logging;
using Clusterd.Metrics;
using Clusterd.Platform;
using Clusterd.Sockets;
using Clusterd.Supervision;
using Clusterd.Supervision.Upgrade;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Clusterd;

internal static class Program
{
    public const string DefaultConfigPath = "/etc/clusterd/clusterd.toml";

    /// <summary>Exit codes, s6-style: 0 ok, 1 "no" (invalid config, could not start), 100 usage.</summary>
    private const int ExitInvalid = 1;

    /// <summary><c>--check-upgrade VERSION</c>: whether this binary can take over a running clusterd's state (docs/adr/0008).</summary>
    public const string CheckUpgradeFlag = "--check-upgrade";

    public static int Main(string[] args)
    {
        if (!OperatingSystem.IsMacOS() && ContainerInit.IsPid1)
        {
            ContainerInit.BecomeInit(args); // returns only by throwing (docs/adr/0007)
        }
        SignalDispositions.RestoreIgnored(); // before anything registers for them
        UpgradeAdoption? adoption = null;
        if (OperatingSystem.IsLinux())
        {
            int? stateFd = null;
            string? previousFailure = null;
            try
            {
                adoption = UpgradeAdoption.FromEnvironment(out stateFd, out previousFailure);
            }
            catch (UpgradeStateException e)
            {
                // Before anything started: the exec of the binary that wrote the state is all that can save its workers.
                Console.Error.WriteLine($"clusterd: cannot take over the upgrade state: {e.Message}");
                try
                {
                    if (stateFd is int fd)
                    {
                        UpgradeAdoption.FallBackUnread(fd, previousFailure, e.Message); // returns only by throwing
                    }
                }
                catch (IOException again) // UpgradeStateException too: nothing left to fall back to
                {
                    Console.Error.WriteLine($"clusterd: {again.Message}");
                }
                return ExitInvalid;
            }
        }

        var configOption = new Option<string>("--config", "-c")
        {
            Description = "The configuration file.",
            DefaultValueFactory = _ => DefaultConfigPath,
        };
        var checkOption = new Option<bool>("--check-config", "-t")
        {
            Description = "Validate the configuration, print every error as FILE:LINE:COL, and exit (0 valid, 1 invalid).",
        };
        var logFormatOption = new Option<string?>("--log-format")
        {
            Description = "Log format on stdout: text, or json (one object per line); overrides [logs] format.",
        };
        logFormatOption.AcceptOnlyFromAmong("text", "json");
        var verboseOption = new Option<bool>("--verbose", "-v") { Description = "Also log every worker state change." };
        var checkUpgradeOption = new Option<int?>(CheckUpgradeFlag)
        {
            Description = "Whether this binary can take over a running clusterd's state of this version (clusterctl upgrade runs it first): loads the config, prints this binary's version, exits 0; else says why and exits 1.",
            Hidden = true,
        };
        var containerOption = new Option<bool>(ContainerInit.ContainerFlag)
        {
            Description = "Run as a container's main process: a failed group stops clusterd with status 3 ([container] exit_on_failed). Implied when clusterd is PID 1.",
        };

        var root = new RootCommand("clusterd: runs groups of worker processes that share listening sockets, and keeps them running.")
        {
            configOption, checkOption, logFormatOption, verboseOption, containerOption, checkUpgradeOption,
        };
        root.SetAction(parse => Run(
            parse.GetValue(configOption)!,
            parse.GetValue(checkOption),
            parse.GetValue(logFormatOption),
            parse.GetValue(verboseOption),
            parse.GetValue(containerOption),
            parse.GetValue(checkUpgradeOption),
            adoption));
        var parse = root.Parse(args);
        if (adoption is null)
        {
            return parse.Invoke();
        }
        // From here until the takeover is complete, every way out falls back to the binary that wrote the state.
        return adoption.Guard(() =>
        {
            if (parse.Errors.Count > 0)
            {
                adoption.FallBack($"it does not take clusterd's arguments ({string.Join(' ', args)}): {string.Join("; ", parse.Errors.Select(e => e.Message))}");
            }
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false }); // the guard's to catch
        });
    }

    private static int Run(string configPath, bool checkOnly, string? logFormat, bool verbose, bool containerMode,
        int? checkUpgrade, UpgradeAdoption? adoption)
    {
        var result = adoption is null
            ? ConfigLoader.Load(configPath, SystemHost.Facts())
            : ConfigLoader.Parse(adoption.State.ConfigText, adoption.State.ConfigPath, CpuBudget.Detect(), SystemHost.Facts());
        if (result.Config is null && adoption is not null)
        {
            adoption.FallBack($"the configuration in force does not load here: {string.Join("; ", result.Errors)}");
        }
        if (result.Config is null)
        {
            foreach (var error in result.Errors)
            {
                Console.Error.WriteLine(error);
            }
            Console.Error.WriteLine($"{configPath}: {result.Errors.Count} error(s); nothing was started.");
            return ExitInvalid;
        }
        if (checkUpgrade is int stateVersion)
        {
            return CheckUpgrade(stateVersion);
        }
        if (checkOnly)
        {
            var config = result.Config;
            // What start would refuse about the control socket's and the unix: listeners' paths, found without touching them.
            var pathProblems = ControlServer.Check(config.Control).Concat(ListenerBinder.Check(config)).ToList();
            foreach (var problem in pathProblems)
            {
                Console.Error.WriteLine($"{configPath}: {problem}");
            }
            if (pathProblems.Count > 0)
            {
                Console.Error.WriteLine($"{configPath}: {pathProblems.Count} error(s); nothing was started.");
                return ExitInvalid;
            }
            Console.WriteLine($"{configPath}: configuration OK ({config.Groups.Count} groups, {config.Groups.Sum(g => g.Workers)} workers)");
            return 0;
        }

        // What a service manager passed to clusterd itself; taken before anything could be spawned.
        var passedSockets = OperatingSystem.IsMacOS()
            ? Launchd.TakeSockets(result.Config.Groups.Select(g => g.Name))
            : ListenFds.Take();
        var notifier = ServiceManagerNotifier.FromEnvironment();

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        // Under systemd: SystemdLifetime (READY=1 once the host has started, which clusterd holds back until its
        // workers are ready; STOPPING=1 on stop) and journald-style log lines.
        builder.Services.AddSystemd();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Information);
        var overrides = CommandLineOverrides.Parse(logFormat);
        var effective = overrides.Apply(result.Config);
        if (effective.LogFormat == LogFormat.Json)
        {
            // One JSON shape for clusterd's messages and worker lines alike (docs/logging.md).
            builder.Logging.AddConsole(o => o.FormatterName = JsonConsoleFormatter.FormatterName);
            builder.Services.AddSingleton<ConsoleFormatter, JsonConsoleFormatter>();
        }
        else if (SystemdHelpers.IsSystemdService())
        {
            builder.Logging.AddSystemdConsole(o => o.UseUtcTimestamp = true); // "<6>message": journald reads the priority
        }
        else
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
                o.ColorBehavior = LoggerColorBehavior.Default;
            });
        }
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        if (LogEnvironment.JournalStreamSet && JournalSink.Exists(JournalSink.DefaultSocketPath))
        {
            // Audit lines as their own journal entries (CLUSTERD_AUDIT=1), and so not also through the console.
            var audit = new JournalSink(JournalSink.DefaultSocketPath, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, TimeProvider.System);
            builder.Logging.AddProvider(new JournalAuditLoggerProvider(audit, Console.Out));
            builder.Logging.AddFilter<ConsoleLoggerProvider>(ControlAudit.Category, LogLevel.None);
        }
        // Workers get stop_timeout each, then SIGKILL; leave the host time for the slowest group plus the kill.
        var slowest = result.Config.Groups.Select(g => g.StopTimeout).DefaultIfEmpty(TimeSpan.Zero).Max();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = slowest + TimeSpan.FromSeconds(15));
        builder.Services.AddSingleton(effective);
        builder.Services.AddSingleton(overrides);
        builder.Services.AddSingleton(TimeProvider.System);
        if (passedSockets.Count > 0 || notifier is not null)
        {
            builder.Services.AddSingleton<ISocketSource>(new ServiceManagerSockets(passedSockets, notifier));
        }
        if (notifier is not null)
        {
            builder.Services.AddSingleton(notifier);
            builder.Services.AddSingleton<ServiceManagerReporter>();
            builder.Services.AddSingleton<IReloadListener>(s => s.GetRequiredService<ServiceManagerReporter>());
        }
        builder.Services.AddSingleton(s => LogEnvironment.Detect(s.GetRequiredService<ILoggerFactory>().CreateLogger("clusterd.worker")));
        builder.Services.AddSingleton<Reloader>();
        builder.Services.AddSingleton<Supervisor>();
        builder.Services.AddSingleton<IControlCommand, PingCommand>();
        builder.Services.AddSingleton<IControlCommand, VersionCommand>();
        builder.Services.AddSingleton(s => new ProcessReadings(s.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton<IControlCommand, StatusCommand>();
        builder.Services.AddSingleton<IControlCommand, RestartCommand>();
        builder.Services.AddSingleton<IControlCommand, ReloadCommand>();
        builder.Services.AddSingleton<IControlCommand, ScaleCommand>();
        builder.Services.AddSingleton<IControlCommand, StopCommand>();
        builder.Services.AddSingleton<IControlCommand, StartCommand>();
        builder.Services.AddSingleton<IControlCommand, SignalCommand>();
        builder.Services.AddSingleton<IControlCommand, EventsCommand>();
        builder.Services.AddSingleton<IControlCommand, LogsCommand>();
        builder.Services.AddSingleton<IControlCommand, ReopenLogsCommand>();
        builder.Services.AddSingleton<IControlCommand, UpgradeCommand>();
        builder.Services.AddSingleton<Upgrader>();
        if (adoption is not null)
        {
            builder.Services.AddSingleton(adoption);
        }
        builder.Services.AddSingleton(s => new CommandDispatcher(
            s.GetServices<IControlCommand>(),
            s.GetRequiredService<ILoggerFactory>().CreateLogger("clusterd.control"),
            new ControlAudit(s.GetRequiredService<ILoggerFactory>().CreateLogger(ControlAudit.Category))));
        builder.Services.AddHostedService(s => new ContainerLifetime(s.GetRequiredService<Supervisor>(),
            s.GetRequiredService<IHostApplicationLifetime>(), s.GetRequiredService<ILogger<ContainerLifetime>>(), containerMode));
        builder.Services.AddHostedService<SupervisorService>();
        // [metrics] (docs/metrics.md): the endpoint starts before the supervisor, so startup events are counted.
        var metricsListen = result.Config.Metrics.Listen;
        if (metricsListen is not null)
        {
            builder.Services.AddClusterdMetrics(metricsListen);
        }
        var exitCode = 0;
        // The main thread runs the spawner loop: it is the thread an in-place upgrade's exec keeps (docs/adr/0008).
        SpawnerThread.LendMainThread(() =>
        {
            using var host = builder.Build();
            if (adoption is not null)
            {
                host.Services.GetService<ClusterdMetrics>()?.Import(adoption.State.Metrics); // before anything is counted
            }
            if (metricsListen is not null && MetricsHosting.Start(host.Services, metricsListen) is string metricsError)
            {
                adoption?.FallBack(metricsError);
                Console.Error.WriteLine($"{configPath}: {metricsError}; nothing was started.");
                exitCode = ExitInvalid;
                return;
            }
            host.Run();
            exitCode = Environment.ExitCode;
        });
        return exitCode;
    }

    /// <summary>The config loaded (Run did that), and the state version is one this binary reads: say which version it is.</summary>
    private static int CheckUpgrade(int stateVersion)
    {
        if (!UpgradeDocument.Reads(stateVersion))
        {
            Console.Error.WriteLine($"clusterd {VersionCommand.Version} reads upgrade state {UpgradeDocument.Readable}, not {stateVersion}; restart clusterd instead");
            return ExitInvalid;
        }
        if (!OperatingSystem.IsLinux())
        {
            Console.Error.WriteLine("an in-place upgrade is Linux only; restart clusterd instead");
            return ExitInvalid;
        }
        if (ExecHelper.Locate() is null)
        {
            // Without it the new image could not start its launcher, after the exec: too late to say no.
            Console.Error.WriteLine($"{ExecHelper.FileName} is missing next to {Environment.ProcessPath}; install it with clusterd");
            return ExitInvalid;
        }
        Console.WriteLine(VersionCommand.Version);
        return 0;
    }
}
