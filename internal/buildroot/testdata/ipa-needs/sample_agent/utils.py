import subprocess

from oslo_concurrency import processutils


def execute(*cmd, **kwargs):
    return processutils.execute(*cmd, **kwargs)


def try_execute(*cmd, **kwargs):
    try:
        return execute(*cmd, **kwargs)
    except OSError:
        return None


def output_of(command):
    return execute(*command, binary=True)


def collect(logs):
    commands = {
        'df': ['df', '-a'],
        'mdstat': ['cat', '/proc/mdstat'],
    }
    for name, cmd in commands.items():
        logs[name] = output_of(cmd)


def journal_present():
    subprocess.check_call(['journalctl', '--version'])


def mkfs(fs, path):
    if fs == 'swap':
        args = ['mkswap']
    else:
        args = ['mkfs', '-t', fs]
    args.append(path)
    execute(*args)
