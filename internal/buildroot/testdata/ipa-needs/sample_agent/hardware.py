import os

from oslo_config import cfg

from sample_agent import utils

CONF = cfg.CONF
PASSWORD_FILE = '/etc/rescue/password'
STEPS_FILE = '/var/lib/sample-agent/steps.yaml'


def load_modules():
    for module in ['ipmi_si', 'ipmi_devintf']:
        utils.try_execute('modprobe', module)
    utils.execute('modprobe', '-r', 'pcspkr')


class Manager(object):
    RUNNERS = ('podman', 'docker')

    def bmc_address(self, channel):
        out, _ = utils.execute(
            "ipmitool lan print {} | awk '{{print $4}}'".format(channel),
            shell=True)
        return out

    def install(self, root):
        utils.execute('chroot %(path)s /bin/sh -c "grub-install"'
                      % {'path': root}, shell=True)
        utils.execute('mount', '-t', 'vfat', '/dev/sda1', root)

    def convert(self, source, dest):
        cmd = ['env', 'LC_ALL=C', 'qemu-img', 'convert', source, dest]
        utils.execute(*cmd)

    def runners(self):
        for runner in self.RUNNERS:
            utils.execute(runner, '--version')
        utils.execute(CONF.container.runner, 'pull')

    def power(self, command):
        utils.execute(command)

    def reboot(self):
        self.power('reboot')

    def write_password(self, password):
        with open(PASSWORD_FILE, 'w') as f:
            f.write(password)
        os.makedirs('/run/sample-agent', exist_ok=True)
        if os.path.exists('/etc/.rescued'):
            return
        for ext in ('', '.d'):
            os.makedirs('/etc/sample-agent%s' % ext, exist_ok=True)
        with open(os.path.join('/sys/firmware/efi', 'fw_platform_size')) as f:
            return f.read()

    def drop_caches(self):
        os.system('sync; echo 3 > /proc/sys/vm/drop_caches')

    def runner_function(self):
        return utils.execute

    def dispatch(self, ext, name):
        return ext.execute(name)

    def power_off_later(self):
        def later():
            self.power('poweroff')
        return later


def run_anything(program):
    utils.execute(program, '--help')
