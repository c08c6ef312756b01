import { randomInt } from 'node:crypto';
import { InvalidArgumentError } from '../../internal/errors.js';

/**
 * The answer file a built image carries in `Windows\Panther\unattend.xml`:
 * Windows Setup reads it on the image's first boot (each sandbox's first boot
 * over the base disk) for the specialize and oobeSystem passes.
 *
 * Choices (docs/vm.md, "Building an image"):
 * - one local administrator, logged on automatically at every boot, as
 *   Windows Sandbox does with WDAGUtilityAccount: a sandbox is a disposable
 *   desktop, not a shared machine;
 * - every OOBE page skipped (`ProtectYourPC 3` = no recommended settings,
 *   SkipMachineOOBE/SkipUserOOBE are deprecated but still honoured by
 *   current builds for the pages the Hide* settings do not cover);
 * - Remote Desktop connections allowed without network-level authentication
 *   (fDenyTSConnections false, UserAuthentication 0), the settings the
 *   console viewer's `.rdp` (no CredSSP) expects;
 * - time zone UTC, so logs inside and outside line up.
 *
 * Component and setting names: Microsoft's Unattended Windows Setup Reference
 * (learn.microsoft.com/windows-hardware/customize/desktop/unattend/).
 */
export interface UnattendOptions {
  /** The local administrator's name (1-20 characters, none of `"/\[]:;|=,+*?<>@`). */
  userName: string;
  /** Its password (1-127 characters, no control characters). */
  password: string;
  /** `*` (Setup picks a random name per sandbox) or a NetBIOS name of 1-15 letters, digits and `-`. */
  computerName?: string;
  /** Locale for the UI, input, system and user (default `en-US`). */
  locale?: string;
}

/** How many automatic logons Setup arms: effectively every boot of a disposable sandbox. */
export const AUTOLOGON_COUNT = 9999999;
export const DEFAULT_VM_USER = 'sandbox';

/** C0 and C1 control characters (a newline in a name would break out of the XML element or a script line). */
export function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}
const USER_FORBIDDEN = /["/\\[\]:;|=,+*?<>@]/;
const COMPUTER_NAME = /^(?=.*[A-Za-z-])[A-Za-z0-9-]{1,15}$/;
const LOCALE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$/;

export function checkUnattendOptions(options: UnattendOptions): Required<UnattendOptions> {
  const { userName, password } = options;
  if (typeof userName !== 'string' || userName.length < 1 || userName.length > 20)
    throw new InvalidArgumentError('userName', 'a local account name of 1-20 characters', userName);
  if (hasControlCharacter(userName) || USER_FORBIDDEN.test(userName) || /^[. ]+$/.test(userName))
    throw new InvalidArgumentError(
      'userName',
      'a local account name without control characters or any of "/\\[]:;|=,+*?<>@',
      userName,
    );
  if (typeof password !== 'string' || password.length < 1 || password.length > 127)
    throw new InvalidArgumentError('password', 'a password of 1-127 characters', '(hidden)');
  if (hasControlCharacter(password))
    throw new InvalidArgumentError('password', 'a password without control characters', '(hidden)');
  const computerName = options.computerName ?? '*';
  if (computerName !== '*' && !COMPUTER_NAME.test(computerName))
    throw new InvalidArgumentError(
      'computerName',
      '"*" or 1-15 letters, digits and "-", not only digits',
      computerName,
    );
  const locale = options.locale ?? 'en-US';
  if (!LOCALE.test(locale)) throw new InvalidArgumentError('locale', 'a locale such as en-US', locale);
  return { userName, password, computerName, locale };
}

/** A password for the image's account: 20 characters from four classes, so any complexity policy accepts it. */
export function generatePassword(): string {
  const classes = ['ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnopqrstuvwxyz', '23456789', '#%+-.=_~'];
  const all = classes.join('');
  const chars = classes.map((c) => c[randomInt(c.length)]!);
  while (chars.length < 20) chars.push(all[randomInt(all.length)]!);
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}

export function escapeXml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`,
  );
}

const COMPONENT_ATTRIBUTES =
  'processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS"';

function component(name: string, body: string): string {
  return `    <component name="${name}" ${COMPONENT_ATTRIBUTES}>\n${body}    </component>\n`;
}

/** The answer file's text (UTF-8, CRLF line ends as Windows tools write them). */
export function renderUnattend(options: UnattendOptions): string {
  const o = checkUnattendOptions(options);
  const user = escapeXml(o.userName);
  const password = escapeXml(o.password);
  const locale = escapeXml(o.locale);
  const specialize =
    component(
      'Microsoft-Windows-Shell-Setup',
      `      <ComputerName>${escapeXml(o.computerName)}</ComputerName>\n      <TimeZone>UTC</TimeZone>\n`,
    ) +
    component(
      'Microsoft-Windows-TerminalServices-LocalSessionManager',
      '      <fDenyTSConnections>false</fDenyTSConnections>\n',
    ) +
    component(
      'Microsoft-Windows-TerminalServices-RDP-WinStationExtensions',
      '      <UserAuthentication>0</UserAuthentication>\n',
    );
  const oobe =
    component(
      'Microsoft-Windows-International-Core',
      `      <InputLocale>${locale}</InputLocale>\n      <SystemLocale>${locale}</SystemLocale>\n` +
        `      <UILanguage>${locale}</UILanguage>\n      <UserLocale>${locale}</UserLocale>\n`,
    ) +
    component(
      'Microsoft-Windows-Shell-Setup',
      [
        '      <OOBE>',
        '        <HideEULAPage>true</HideEULAPage>',
        '        <HideLocalAccountScreen>true</HideLocalAccountScreen>',
        '        <HideOEMRegistrationScreen>true</HideOEMRegistrationScreen>',
        '        <HideOnlineAccountScreens>true</HideOnlineAccountScreens>',
        '        <HideWirelessSetupInOOBE>true</HideWirelessSetupInOOBE>',
        '        <ProtectYourPC>3</ProtectYourPC>',
        '        <SkipMachineOOBE>true</SkipMachineOOBE>',
        '        <SkipUserOOBE>true</SkipUserOOBE>',
        '      </OOBE>',
        '      <UserAccounts>',
        '        <LocalAccounts>',
        '          <LocalAccount wcm:action="add">',
        `            <Name>${user}</Name>`,
        `            <DisplayName>${user}</DisplayName>`,
        '            <Group>Administrators</Group>',
        `            <Password><Value>${password}</Value><PlainText>true</PlainText></Password>`,
        '          </LocalAccount>',
        '        </LocalAccounts>',
        '      </UserAccounts>',
        '      <AutoLogon>',
        '        <Enabled>true</Enabled>',
        `        <LogonCount>${AUTOLOGON_COUNT}</LogonCount>`,
        `        <Username>${user}</Username>`,
        `        <Password><Value>${password}</Value><PlainText>true</PlainText></Password>`,
        '      </AutoLogon>',
        '      <TimeZone>UTC</TimeZone>',
        '',
      ].join('\n'),
    );
  const text =
    '<?xml version="1.0" encoding="utf-8"?>\n' +
    '<!-- Generated by hcs-sandbox vm image build (docs/vm.md). -->\n' +
    '<unattend xmlns="urn:schemas-microsoft-com:unattend" xmlns:wcm="http://schemas.microsoft.com/WMIConfig/2002/State">\n' +
    `  <settings pass="specialize">\n${specialize}  </settings>\n` +
    `  <settings pass="oobeSystem">\n${oobe}  </settings>\n` +
    '</unattend>\n';
  return text.replace(/\n/g, '\r\n');
}
