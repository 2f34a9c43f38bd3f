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

    public static int Main(string[] args)
    {
        if (!OperatingSystem.IsMacOS() && ContainerInit.IsPid1)
        {
            ContainerInit.BecomeInit(args); // returns only by throwing (docs/adr/0007)
        }
        SignalDispositions.RestoreIgnored(); // before anything registers for them

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
        var containerOption = new Option<bool>(ContainerInit.ContainerFlag)
        {
            Description = "Run as a container's main process: a failed group stops clusterd with status 3 ([container] exit_on_failed). Implied when clusterd is PID 1.",
        };

        var root = new RootCommand("clusterd: runs groups of worker processes that share listening sockets, and keeps them running.")
        {
            configOption, checkOption, logFormatOption, verboseOption, containerOption,
        };
        root.SetAction(parse => Run(
            parse.GetValue(configOption)!,
            parse.GetValue(checkOption),
            parse.GetValue(logFormatOption),
            parse.GetValue(verboseOption),
            parse.GetValue(containerOption)));
        return root.Parse(args).Invoke();
    }

    private static int Run(string configPath, bool checkOnly, string? logFormat, bool verbose, bool containerMode)
    {
        var result = ConfigLoader.Load(configPath, SystemHost.Facts());
        if (result.Config is null)
        {
            foreach (var error in result.Errors)
            {
                Console.Error.WriteLine(error);
            }
            Console.Error.WriteLine($"{configPath}: {result.Errors.Count} error(s); nothing was started.");
            return ExitInvalid;
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
        if ((logFormat ?? (result.Config.LogFormat == LogFormat.Json ? "json" : "text")) == "json")
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
        builder.Services.AddSingleton(result.Config);
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
        using var host = builder.Build();
        if (metricsListen is not null && MetricsHosting.Start(host.Services, metricsListen) is string metricsError)
        {
            Console.Error.WriteLine($"{configPath}: {metricsError}; nothing was started.");
            return ExitInvalid;
        }
        host.Run();
        return Environment.ExitCode;
    }
}
