using System.Globalization;

// Content root = the app's folder, so appsettings.json is found whatever directory the supervisor starts us in.
// The slim builder (no HTTPS, no IIS, no hosting startup assemblies) is what lets this example publish as NativeAOT,
// so the .deb ships a hello that runs on a machine without .NET installed.
var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

// Plain systemd socket activation: adopt LISTEN_FDS sockets (fds 3..) when LISTEN_PID is ours.
// With no LISTEN_FDS, Kestrel falls back to its default URL, so the app also runs on its own.
builder.WebHost.ConfigureKestrel(kestrel => kestrel.UseSystemd());

// Plain sd_notify: READY=1 once started, STOPPING=1 on shutdown, when run by a service manager.
builder.Services.AddSystemd();

var app = builder.Build();

// Lets a curl -i show which worker process answered.
var pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
app.Use((context, next) =>
{
    context.Response.Headers["X-Worker-Pid"] = pid;
    return next(context);
});

app.MapGet("/", () => "Hello World!\n");

app.Run();
