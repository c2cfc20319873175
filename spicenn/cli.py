"""The `spicenn` command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from .errors import InputError, SpicennError


def _parse_params(items: tuple[str, ...]) -> dict[str, str]:
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"--param takes KEY=VALUE, got {item!r}")
        params[key] = value.strip()
    return params


def circuit_options(command):
    """The inputs that define a crossbar circuit and its input vectors."""
    options = [
        click.option("--conductances", "-g", required=True, type=click.Path(path_type=Path),
                     help="(M, N) conductance matrix in siemens, .npy"),
        click.option("--voltages", "-v", required=True, type=click.Path(path_type=Path),
                     help="(B, M) input voltages in volts, .npy (1-D: one vector)"),
        click.option("--device", "-d", default="linear", show_default=True,
                     help="device model or preset: see `spicenn devices`"),
        click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE",
                     help="device parameter, repeatable (e.g. -p k=3)"),
        click.option("--r-word", default=0.0, show_default=True, type=str, help="word-line segment resistance, ohm"),
        click.option("--r-bit", default=0.0, show_default=True, type=str, help="bit-line segment resistance, ohm"),
        click.option("--r-source", default=0.0, show_default=True, type=str, help="driver resistance, ohm"),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _crossbar_and_voltages(conductances, voltages, device, params, r_word, r_bit, r_source):
    from .crossbar import Crossbar
    from .devices import get_device
    from .io import load_array

    g = load_array(conductances, "conductances")
    v = load_array(voltages, "voltages")
    crossbar = Crossbar(g, get_device(device, **_parse_params(params)), r_word=r_word, r_bit=r_bit,
                        r_source=r_source)
    return crossbar, crossbar.check_voltages(v)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="spicenn")
def cli() -> None:
    """spicenn: SPICE co-simulation of memristive crossbars and neural networks."""


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


@cli.command()
@click.option("--lib", "lib_path", type=click.Path(path_type=Path), default=None,
              help="write the models as an ngspice .lib of subcircuits to this file")
def devices(lib_path) -> None:
    """List device models and presets (or write them as an ngspice .lib)."""
    from .devices import MODELS, PRESETS, get_device, lib_text

    if lib_path is not None:
        _write_text_atomic(lib_path, lib_text())
        click.echo(f"wrote {lib_path}")
        return
    for name in list(MODELS) + list(PRESETS):
        click.echo(f"{name:<20} {get_device(name).describe()}")


@cli.command()
@circuit_options
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path), help="netlist file to write")
@click.option("--no-klu", is_flag=True, help="leave out `.options klu`")
def netlist(conductances, voltages, device, params, r_word, r_bit, r_source, out, no_klu) -> None:
    """Write the ngspice netlist of a crossbar driven by the input vectors."""
    from .netlist import SolverOptions, netlist_text

    crossbar, v = _crossbar_and_voltages(conductances, voltages, device, params, r_word, r_bit, r_source)
    _write_text_atomic(out, netlist_text(crossbar, v, SolverOptions(klu=not no_klu)))
    click.echo(f"wrote {out} ({crossbar.rows}x{crossbar.columns}, {v.shape[0]} input vector(s))")


@cli.command()
@circuit_options
@click.option("--engine", "-e", type=click.Choice(["shared", "subprocess"]), default="shared", show_default=True)
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path), help="result .npz to write")
def simulate(conductances, voltages, device, params, r_word, r_bit, r_source, engine, out) -> None:
    """Simulate a crossbar in ngspice: output currents and power per input vector."""
    from .spice import simulate as run

    crossbar, v = _crossbar_and_voltages(conductances, voltages, device, params, r_word, r_bit, r_source)
    result = run(crossbar, v, engine=engine, progress=True)
    result.save(out)
    click.echo(f"wrote {out}: currents {result.currents.shape}, mean power {result.power.mean():.4g} W")


def peripheral_options(command):
    options = [
        click.option("--t-read", default=None, type=str, help="read time, seconds [default: 50e-9]"),
        click.option("--config", "config", type=click.Path(path_type=Path), default=None,
                     help="peripherals TOML ([peripherals] table); see spicenn/energy/peripherals.py"),
        click.option("--plot", type=click.Path(path_type=Path), default=None, help="write the breakdown as PNG"),
        click.option("--json", "as_json", is_flag=True, help="print one JSON object instead of the report"),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _peripherals(config, t_read):
    import dataclasses

    from .checks import finite_number
    from .energy import Peripherals, load_config

    peripherals = load_config(config) if config is not None else Peripherals()
    if t_read is not None:
        peripherals = dataclasses.replace(peripherals, t_read=finite_number("--t-read", t_read, minimum=0.0,
                                                                            strict_minimum=True))
    return peripherals


def _emit(report, plot, as_json, extra_reports=()) -> None:
    if plot is not None:
        report.plot(plot)
    if as_json:
        payload = report.to_dict()
        if extra_reports:
            payload["layers"] = [r.to_dict() for r in extra_reports]
        click.echo(json.dumps(payload))
        return
    for layer in extra_reports:
        click.echo(layer.text() + "\n")
    click.echo(report.text())
    if plot is not None:
        click.echo(f"wrote {plot}")


@cli.command()
@circuit_options
@peripheral_options
@click.option("--engine", "-e", type=click.Choice(["shared", "subprocess"]), default="shared", show_default=True)
@click.option("--transient", is_flag=True, help="transient read: pulses of width t_read, line capacitance")
@click.option("--c-word", default="0", type=str, help="capacitance per word-line segment, F (transient)")
@click.option("--c-bit", default="0", type=str, help="capacitance per bit-line segment, F (transient)")
@click.option("--t-rise", default="1e-9", type=str, help="pulse rise time, s (transient)")
@click.option("--t-fall", default="1e-9", type=str, help="pulse fall time, s (transient)")
def energy(conductances, voltages, device, params, r_word, r_bit, r_source, t_read, config, plot, as_json,
           engine, transient, c_word, c_bit, t_rise, t_fall) -> None:
    """Energy per MVM and TOPS/W of a crossbar read, with peripherals and a breakdown."""
    from .checks import finite_number
    from .energy import crossbar_energy
    from .netlist import ReadPulse

    crossbar, v = _crossbar_and_voltages(conductances, voltages, device, params, r_word, r_bit, r_source)
    peripherals = _peripherals(config, t_read)
    pulse = None
    if transient:
        pulse = ReadPulse(t_width=peripherals.t_read, t_rise=finite_number("--t-rise", t_rise),
                          t_fall=finite_number("--t-fall", t_fall), c_word=finite_number("--c-word", c_word),
                          c_bit=finite_number("--c-bit", c_bit))
    _emit(crossbar_energy(crossbar, v, peripherals, pulse, engine), plot, as_json)


@cli.command("network-energy")
@click.option("--network", "-n", required=True, type=click.Path(path_type=Path),
              help="layers: .npz (W0, b0, W1, ... with W as inputs x outputs) or a torch state_dict")
@click.option("--inputs", "-x", required=True, type=click.Path(path_type=Path), help="(B, inputs) .npy")
@click.option("--device", "-d", default="poole-frenkel-high", show_default=True)
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE")
@click.option("--g-off", default=None, type=str, help="S [default: the device preset's]")
@click.option("--g-on", default=None, type=str, help="S [default: the device preset's]")
@click.option("--k-v", default="0.5", type=str, show_default=True, help="volts per unit input")
@click.option("--r-word", default="0", type=str)
@click.option("--r-bit", default="0", type=str)
@click.option("--activation", default="sigmoid", show_default=True)
@peripheral_options
def network_energy_command(network, inputs, device, params, g_off, g_on, k_v, r_word, r_bit, activation,
                           t_read, config, plot, as_json) -> None:
    """TOPS/W of a whole network (per layer and total) on a batch of real inputs."""
    from .checks import finite_number
    from .devices import get_device
    from .energy import load_layers, network_energy
    from .io import load_array

    layers = load_layers(network)
    x = load_array(inputs, "inputs")
    number = lambda name, value: None if value is None else finite_number(name, value, minimum=0.0)  # noqa: E731
    reports, total = network_energy(layers, x, get_device(device, **_parse_params(params)),
                                    g_off=number("--g-off", g_off), g_on=number("--g-on", g_on),
                                    k_v=number("--k-v", k_v), r_word=number("--r-word", r_word),
                                    r_bit=number("--r-bit", r_bit), activation=activation,
                                    peripherals=_peripherals(config, t_read))
    _emit(total, plot, as_json, reports)


@cli.group()
def surrogate() -> None:
    """The PyTorch surrogate of the crossbar: SPICE datasets."""


@surrogate.command("dataset")
@click.option("--rows", "-m", required=True, type=int, help="tile rows M")
@click.option("--columns", "-n", required=True, type=int, help="tile columns N")
@click.option("--device", "-d", default="linear", show_default=True)
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE")
@click.option("--r-word", default="0", type=str, show_default=True)
@click.option("--r-bit", default="0", type=str, show_default=True)
@click.option("--g-off", default=None, type=str, help="S [default: the preset's, else 1e-6]")
@click.option("--g-on", default=None, type=str, help="S [default: the preset's, else 1e-4]")
@click.option("--v-max", default="0.5", type=str, show_default=True)
@click.option("--conductance-distribution", default="uniform", show_default=True, help="uniform | skewed | trained")
@click.option("--network", default=None, help="run folder of a trained network (for --conductance-distribution trained)")
@click.option("--input-distribution", default="uniform", show_default=True, help="uniform | sparse | binary")
@click.option("--cases", default=100, type=int, show_default=True, help="conductance matrices")
@click.option("--vectors", default=16, type=int, show_default=True, help="input vectors per matrix")
@click.option("--seed", default=0, type=int, show_default=True)
@click.option("--workers", "-j", default=1, type=int, show_default=True, help="local worker processes")
@click.option("--scheduler", default=None, help="Dask scheduler address: run the tasks on that cluster")
@click.option("--cases-per-task", default=4, type=int, show_default=True)
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path), help="HDF5 file to write")
def surrogate_dataset(rows, columns, device, params, r_word, r_bit, g_off, g_on, v_max, conductance_distribution,
                      network, input_distribution, cases, vectors, seed, workers, scheduler, cases_per_task, out) -> None:
    """Sample crossbar cases, solve them in ngspice, store them in HDF5 (resumable: rerun it)."""
    from .devices import get_device
    from .surrogate import DatasetSpec, generate

    model = get_device(device, **_parse_params(params))
    if workers < 1 or cases_per_task < 1:
        raise InputError("--workers and --cases-per-task must be >= 1")
    spec = DatasetSpec(rows=rows, columns=columns, device=model.to_dict(), r_word=r_word, r_bit=r_bit,
                       g_off=g_off if g_off is not None else (model.g_off or 1e-6),
                       g_on=g_on if g_on is not None else (model.g_on or 1e-4), v_max=v_max,
                       conductances=conductance_distribution, inputs=input_distribution, cases=cases,
                       vectors=vectors, seed=seed, network=network)
    path = generate(spec, out, workers=workers, scheduler=scheduler, cases_per_task=cases_per_task)
    click.echo(f"wrote {path}: {spec.cases} cases x {spec.vectors} vectors, {rows}x{columns} {model.describe()}")


@surrogate.command("train")
@click.option("--data", "-D", required=True, type=click.Path(path_type=Path), help="SPICE dataset (.h5)")
@click.option("--iterations", "-k", default=6, type=click.IntRange(1, 200), show_default=True,
              help="relaxation sweeps per evaluation")
@click.option("--kind", type=click.Choice(["relaxation", "first-order"]), default="relaxation", show_default=True,
              help="relaxation: any loading; first-order: a few matmuls, for weakly loaded lines")
@click.option("--modes", default=1, type=click.IntRange(1, 64), show_default=True,
              help="bit-line modes of the first-order kind")
@click.option("--epochs", default=100, type=click.IntRange(1, 100000), show_default=True)
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path), help="model file to write (.pt)")
def surrogate_train(data, iterations, kind, modes, epochs, out) -> None:
    """Fit the surrogate to a SPICE dataset."""
    from .surrogate.training import train

    model, history = train(data, iterations=iterations, epochs=epochs, kind=kind, modes=modes)
    model.save(out)
    click.echo(f"wrote {out}: training NRMSE {history[0]:.3g} -> {history[-1]:.3g}")


@surrogate.command("validate")
@click.option("--model", "-M", "model_path", required=True, type=click.Path(path_type=Path))
@click.option("--data", "-D", required=True, type=click.Path(path_type=Path), help="held-out SPICE dataset")
@click.option("--plots", type=click.Path(path_type=Path), default=None, help="folder for parity and histogram PNGs")
@click.option("--json", "as_json", is_flag=True)
def surrogate_validate(model_path, data, plots, as_json) -> None:
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


@surrogate.command("predict")
@click.option("--model", "-M", "model_path", required=True, type=click.Path(path_type=Path))
@click.option("--conductances", "-g", required=True, type=click.Path(path_type=Path))
@click.option("--voltages", "-v", required=True, type=click.Path(path_type=Path))
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path))
def surrogate_predict(model_path, conductances, voltages, out) -> None:
    """Output currents (B, N) from the surrogate, like `spicenn simulate`."""
    import torch

    from .io import load_array
    from .spice.extract import save_npz_atomic
    from .surrogate.model import CrossbarSurrogate

    model = CrossbarSurrogate.load(model_path)
    g = torch.from_numpy(load_array(conductances, "conductances").astype("float64"))
    v = torch.from_numpy(load_array(voltages, "voltages").astype("float64"))
    if v.ndim == 1:
        v = v[None]
    with torch.no_grad():
        currents = model(v, g).numpy()
    save_npz_atomic(out, {"currents": currents})
    click.echo(f"wrote {out}: currents {currents.shape}")


@cli.command("train")
@click.option("--config", "-c", "config_path", required=True, type=click.Path(path_type=Path),
              help="run configuration, TOML (see README)")
@click.option("--run", "-r", "run_dir", default=None, type=click.Path(path_type=Path),
              help="run folder [default: runs/<config name>]; an unfinished run there continues")
@click.option("--no-progress", is_flag=True)
def train_command(config_path, run_dir, no_progress) -> None:
    """Train a crossbar network; checkpoints, metrics.csv and curves.png go to the run folder."""
    from .nn.run_config import RunConfig
    from .nn.training import train

    config = RunConfig.load(config_path)
    run_dir = run_dir or Path("runs") / config_path.stem
    train(config, run_dir, progress=not no_progress)
    metrics = (run_dir / "metrics.csv").read_text().strip().splitlines()
    best = max((line.split(",") for line in metrics[1:]), key=lambda row: float(row[3]))
    click.echo(f"trained {run_dir}: best median validation accuracy {100 * float(best[3]):.2f}% at epoch {best[0]} "
               f"(best.pt, metrics.csv, curves.png)")


@cli.command("evaluate")
@click.option("--model", "-M", "run_dir", required=True, type=click.Path(path_type=Path), help="run folder")
@click.option("--backend", "-b", default="spice", show_default=True, help="ideal | device | surrogate | spice")
@click.option("--compare", default=None, help="second backend on the same images and chips "
              "[default: surrogate if the run has one, else device]")
@click.option("--n", "count", default=500, show_default=True, type=int, help="test images")
@click.option("--chips", default=1, show_default=True, type=int, help="simulated chips")
@click.option("--workers", "-w", default=1, show_default=True, type=int, help="ngspice worker processes")
@click.option("--json", "as_json", is_flag=True)
def evaluate_command(run_dir, backend, compare, count, chips, workers, as_json) -> None:
    """Test accuracy of a trained network on one backend beside another, same images and chips."""
    import numpy as np

    from .nn.backends import check_backend
    from .nn.evaluation import TEST_CHIP_BASE, chip_seeds, compare_backends
    from .nn.run_config import RunConfig
    from .nn.training import load_run, run_data

    if not (run_dir / "config.toml").exists():
        raise InputError(f"{run_dir} is not a run folder (no config.toml)")
    config = RunConfig.load(run_dir / "config.toml")
    compare = compare or ("surrogate" if config.crossbar.surrogate else "device")
    backends = [check_backend(backend), check_backend(compare)]
    if count < 1 or chips < 1 or workers < 1:
        raise InputError("--n, --chips and --workers must be >= 1")
    model = load_run(run_dir, config)
    data = run_data(config)
    x, y = data.test.x[:count], data.test.y[:count]
    results = compare_backends(model, x, y, backends, chip_seeds(TEST_CHIP_BASE, chips), workers, not as_json)
    summary = {name: {"accuracy": float(np.median(values)), "per_chip": values} for name, values in results.items()}
    summary["images"] = len(y)
    if as_json:
        click.echo(json.dumps(summary))
        return
    for name in backends:
        click.echo(f"{name:<10} accuracy {100 * summary[name]['accuracy']:.2f}% (median over {chips} chip(s), "
                   f"{len(y)} test images)")
    gap = 100 * (summary[backends[0]]["accuracy"] - summary[backends[1]]["accuracy"])
    click.echo(f"difference {gap:+.2f} percentage points")


@cli.group()
def reproduce() -> None:
    """Reproduce a paper's results."""


@reproduce.command("joksas2022")
@click.option("--quick", is_flag=True, help="short training (a few minutes on 2 cores)")
@click.option("--json", "as_json", is_flag=True, help="one JSON object keyed by a, b, c, d")
@click.option("--out", "-o", default=None, type=click.Path(path_type=Path),
              help="folder for runs and results [default: runs/joksas2022[-quick]]")
@click.option("--devices", default="powerlaw", show_default=True, help="powerlaw | poole-frenkel")
@click.option("--workers", "-w", default=1, show_default=True, type=int, help="ngspice worker processes")
def reproduce_joksas2022(quick, as_json, out, devices, workers) -> None:
    """Nonideality-aware training (Joksas et al., Adv. Sci. 2022): error and TOPS/W of cases a-d."""
    from .reproduce import joksas2022

    out = out or Path("runs") / ("joksas2022-quick" if quick else "joksas2022")
    results = joksas2022.run(out, quick=quick, devices=devices, workers=workers, progress=not as_json)
    if as_json:
        click.echo(json.dumps({key: {name: results[key][name] for name in
                                     ("error", "tops_per_w_paper", "tops_per_w_full")} for key in "abcd"}))
        return
    click.echo(joksas2022.table(results))
    click.echo(f"wrote {out}/results.json and {out}/joksas2022.png")


@reproduce.command("joksas2022-wires")
@click.option("--quick", is_flag=True, help="short training, 60 test images")
@click.option("--json", "as_json", is_flag=True)
@click.option("--out", "-o", default=None, type=click.Path(path_type=Path),
              help="folder [default: runs/joksas2022-wires[-quick]]")
@click.option("--workers", "-w", default=1, show_default=True, type=int, help="ngspice worker processes")
def reproduce_wires(quick, as_json, out, workers) -> None:
    """The joksas2022 networks on 64x64 tiles with 1 ohm wires: SPICE, surrogate in the loop."""
    from .reproduce import wires

    out = out or Path("runs") / ("joksas2022-wires-quick" if quick else "joksas2022-wires")
    results = wires.run(out, quick=quick, workers=workers, progress=not as_json)
    if as_json:
        click.echo(json.dumps(results))
        return
    click.echo(wires.table(results))
    click.echo(f"wrote {out}/results.json")


def _device_learning_reproduction(name: str, summary: str) -> None:
    @reproduce.command(name, help=summary)
    @click.option("--quick", is_flag=True, help="short training (a few minutes on 2 cores)")
    @click.option("--json", "as_json", is_flag=True, help="print the results as one JSON object")
    @click.option("--out", "-o", default=None, type=click.Path(path_type=Path),
                  help=f"folder for results.json and the plot [default: runs/{name}[-quick]]")
    @click.option("--seed", default=0, show_default=True, type=int)
    def command(quick, as_json, out, seed) -> None:
        import importlib

        module = importlib.import_module(f".reproduce.{name}", __package__)
        out = out or Path("runs") / (f"{name}-quick" if quick else name)
        results = module.run(out, quick=quick, seed=seed, progress=not as_json)
        if as_json:
            click.echo(json.dumps(results))
            return
        click.echo(module.table(results))
        click.echo(f"wrote {out}/results.json and {out}/{name}.png")


_device_learning_reproduction("babu2017", "Stochastic updates on 32-level devices (Babu & Rajendran).")
_device_learning_reproduction("kim2019", "Soft-bounds devices with and without zero-shifting (Kim et al.).")
_device_learning_reproduction("li2023", "Binary stochastic learning against back-propagation (Li et al.).")


def _write_text_atomic(path: Path, text: str) -> None:
    from .io import atomic_path

    with atomic_path(path) as temporary:
        temporary.write_text(text)


def main(argv: list[str] | None = None) -> None:
    """Entry point: every expected failure is one line on stderr and a non-zero exit."""
    try:
        cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("error: interrupted", err=True)
        sys.exit(130)
    except click.UsageError as error:
        click.echo(f"error: {error.format_message()}" if not error.ctx else
                   f"error: {error.format_message()} (see `{error.ctx.command_path} --help`)", err=True)
        sys.exit(2)
    except click.ClickException as error:
        click.echo(f"error: {error.format_message()}", err=True)
        sys.exit(error.exit_code)
    except SpicennError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
